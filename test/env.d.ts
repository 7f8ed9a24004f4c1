declare namespace Cloudflare {
  interface GlobalProps {
    mainModule: typeof import("../src/index");
  }
}

/** A file's text, as Vite's `?raw` import gives it (fixtures kept as they were written). */
declare module "*?raw" {
  const text: string;
  export default text;
}
