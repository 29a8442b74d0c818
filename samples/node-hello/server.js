// The sample Node.js app: answers every request with its greeting, escaped
// with its one dependency so a build must have installed node_modules.
const http = require("http");
const escapeHtml = require("escape-html");

const port = process.env.PORT || 5000;
const greeting = process.env.GREETING || "hello";

http
  .createServer((req, res) => {
    res.writeHead(200, { "Content-Type": "text/plain" });
    res.end(`${escapeHtml(greeting)} from node-hello on ${process.version}\n`);
  })
  .listen(port, () => console.log(`listening on ${port}`));
