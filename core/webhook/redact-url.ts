/**
 * A URL as it may be printed or logged: user name and password (https://user:pass@host/) become
 * "***". Every log line and CLI output that shows a webhook URL goes through this.
 */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not a URL the parser takes: still hide anything between "//" and "@".
    return text.replace(/\/\/[^/?#]*@/g, "//***@");
  }
  if (!url.username && !url.password) return text;
  if (url.username) url.username = "***";
  if (url.password) url.password = "***";
  return url.href;
}

/** Redacts every http(s) URL inside a free text (an error message, a Location header). */
export function redactUrlsIn(text: string): string {
  return text.replace(/\bhttps?:\/\/[^\s"'<>]+/gi, (url) => redactUrl(url));
}
