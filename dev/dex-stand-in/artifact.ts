/**
 * A small but real zip archive standing in for a capture: one text file saying what it
 * stands for, stored uncompressed, so `unzip -l` lists it.
 */
export function artifactZip(commandId: string, type: string, createdDate: string): Uint8Array<ArrayBuffer> {
  const name = new TextEncoder().encode(`${type}-${commandId}.txt`);
  const data = new TextEncoder().encode(
    `Local DEX stand-in artifact for ${type} command ${commandId}, created ${createdDate}.\n` +
      "A real capture holds the device's packets or WARP diagnostics.\n",
  );
  const crc = crc32(data);
  const local = header(0x04034b50, [20, 0, 0, 0, 0], crc, data.length, name.length);
  const central = centralHeader(crc, data.length, name.length);
  const centralSize = central.length + name.length;
  const centralOffset = local.length + name.length + data.length;
  const end = new Uint8Array(22);
  const view = new DataView(end.buffer);
  view.setUint32(0, 0x06054b50, true);
  view.setUint16(8, 1, true);
  view.setUint16(10, 1, true);
  view.setUint32(12, centralSize, true);
  view.setUint32(16, centralOffset, true);
  return concat(local, name, data, central, name, end);
}

function header(signature: number, fields: number[], crc: number, size: number, nameLength: number): Uint8Array {
  const out = new Uint8Array(30);
  const view = new DataView(out.buffer);
  view.setUint32(0, signature, true);
  fields.forEach((value, i) => view.setUint16(4 + i * 2, value, true));
  view.setUint32(14, crc, true);
  view.setUint32(18, size, true);
  view.setUint32(22, size, true);
  view.setUint16(26, nameLength, true);
  return out;
}

function centralHeader(crc: number, size: number, nameLength: number): Uint8Array {
  const out = new Uint8Array(46);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x02014b50, true);
  view.setUint16(4, 20, true);
  view.setUint16(6, 20, true);
  view.setUint32(16, crc, true);
  view.setUint32(20, size, true);
  view.setUint32(24, size, true);
  view.setUint16(28, nameLength, true);
  return out;
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
