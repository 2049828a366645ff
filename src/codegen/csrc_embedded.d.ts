/** The C library's text files by path under csrc/, bundled by the web build (see csrc_source.browser.ts). */
declare module 'tinyml:csrc' {
  const files: Readonly<Record<string, string>>;
  export default files;
}
