/** recheck's browser build: the same checker in plain JavaScript, which runs inside workerd. */
declare module "recheck/lib/browser.js" {
  export { check, checkSync } from "recheck";
}
