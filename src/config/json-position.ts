/**
 * Where a JSON text first goes wrong, as an offset, or undefined when it is valid. The
 * runtime's `JSON.parse` error names the position only for some mistakes, and quotes the
 * text around it for others; a setting's error should point at the place instead.
 */
export function jsonErrorOffset(text: string): number | undefined {
  let at = 0;
  const fail = (): never => {
    throw at;
  };
  const space = () => {
    while (at < text.length && " \t\n\r".includes(text[at]!)) at++;
  };
  const literal = (word: string) => (text.startsWith(word, at) ? (at += word.length) : fail());
  const string = () => {
    at++;
    while (at < text.length && text[at] !== '"') {
      if (text[at]! < " ") fail();
      if (text[at] === "\\") {
        at++;
        if (text[at] === "u") /^[0-9a-fA-F]{4}$/.test(text.slice(at + 1, at + 5)) ? (at += 4) : fail();
        else if (!'"\\/bfnrt'.includes(text[at] ?? "x")) fail();
      }
      at++;
    }
    if (at >= text.length) fail();
    at++;
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(at));
    if (!match) fail();
    at += match![0].length;
  };
  const list = (close: string, item: () => void) => {
    at++;
    space();
    if (text[at] === close) return void at++;
    for (;;) {
      item();
      space();
      if (text[at] === ",") {
        at++;
        space();
      } else if (text[at] === close) return void at++;
      else fail();
    }
  };
  /** `"name": value`, one member of an object. */
  const member = (): void => {
    if (text[at] === '"') string();
    else fail();
    space();
    if (text[at] === ":") at++;
    else fail();
    value();
  };
  const value = (): void => {
    space();
    const c = text[at];
    if (c === "{") list("}", member);
    else if (c === "[") list("]", value);
    else if (c === '"') string();
    else if (c === "t") literal("true");
    else if (c === "f") literal("false");
    else if (c === "n") literal("null");
    else number();
  };
  try {
    value();
    space();
    return at < text.length ? at : undefined;
  } catch (offset) {
    if (typeof offset !== "number") throw offset;
    return offset;
  }
}
