// A plain web page on an origin of its own (another port of 127.0.0.1), embedding the widget
// of a Parlor server the way a customer's website would: one script tag. Its global CSS is
// hostile on purpose (every element reset, buttons painted red), so a widget style leak shows.

import { once } from "node:events";
import http from "node:http";

/**
 * Serves the page at `/` until `close()`.
 * @param {import("./server.js").ParlorServer} parlor
 * @param {{ project?: number, attributes?: Record<string, string> }} [options]
 */
export async function hostPage(parlor, options = {}) {
  const attributes = Object.entries({ "data-project": String(options.project ?? 1), ...options.attributes })
    .map(([name, value]) => ` ${name}="${value.replace(/"/g, "&quot;")}"`)
    .join("");
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acme shop</title>
<style>
  body * { all: unset; }
  button { background: red !important; color: yellow !important; font-size: 30px !important; }
  h1 { display: block; font: 32px serif; margin: 40px; }
</style></head>
<body><h1 id="title">Acme shop</h1><button id="host-button">Host button</button>
<script src="${parlor.url("/widget.js")}"${attributes} async></script>
</body></html>`;
  const server = http.createServer((request, response) => {
    if (request.url === "/" || request.url?.startsWith("/?")) {
      response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      response.end(body);
    } else if (request.url === "/favicon.ico") {
      response.writeHead(204).end();
    } else {
      response.writeHead(404).end();
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = /** @type {import("node:net").AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${port}/`,
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}
