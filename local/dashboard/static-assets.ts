import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export interface Asset {
  readonly contentType: string;
  readonly body: Buffer;
}

/** The files the page needs, by the path the page asks for them under. */
const OWN_FILES = {
  "/": { file: "index.html", contentType: "text/html; charset=utf-8" },
  "/static/dashboard.js": { file: "dashboard.js", contentType: "text/javascript; charset=utf-8" },
  "/static/charts.js": { file: "charts.js", contentType: "text/javascript; charset=utf-8" },
  "/static/dom.js": { file: "dom.js", contentType: "text/javascript; charset=utf-8" },
  "/static/dashboard.css": { file: "dashboard.css", contentType: "text/css; charset=utf-8" },
} as const;

/** uPlot from node_modules: the page works offline, no CDN. */
const UPLOT_FILES = {
  "/static/uPlot.iife.min.js": {
    module: "uplot/dist/uPlot.iife.min.js",
    contentType: "text/javascript; charset=utf-8",
  },
  "/static/uPlot.min.css": { module: "uplot/dist/uPlot.min.css", contentType: "text/css; charset=utf-8" },
} as const;

/**
 * Where the page's own files are: beside this module when run from source, and the source
 * tree seen from dist/ when run from the bundle (dist/email-scout.mjs), or dist/dashboard/
 * should the build copy them there.
 */
function staticDir(): string {
  const candidates = ["./static/", "./dashboard/", "../local/dashboard/static/"].map((relative) =>
    fileURLToPath(new URL(relative, import.meta.url)),
  );
  const found = candidates.find((dir) => existsSync(`${dir}index.html`));
  if (!found) throw new Error(`dashboard page files not found; looked in ${candidates.join(", ")}`);
  return found;
}

/** Reads every asset once, at start-up: a missing file stops the dashboard then, not on a page load. */
export function loadAssets(): Map<string, Asset> {
  const dir = staticDir();
  const require = createRequire(import.meta.url);
  const assets = new Map<string, Asset>();
  for (const [path, { file, contentType }] of Object.entries(OWN_FILES)) {
    assets.set(path, { contentType, body: readFileSync(`${dir}${file}`) });
  }
  for (const [path, { module, contentType }] of Object.entries(UPLOT_FILES)) {
    assets.set(path, { contentType, body: readFileSync(require.resolve(module)) });
  }
  return assets;
}
