// The sample Node.js app: answers every request with its greeting, through
// express and escaped with escape-html, so a build must have installed its
// dependencies (72 packages: enough for the build cache to matter).
const express = require("express");
const escapeHtml = require("escape-html");

const port = process.env.PORT || 5000;
const greeting = process.env.GREETING || "hello";

const app = express();
app.get("*", (req, res) => {
  res.type("text/plain").send(`${escapeHtml(greeting)} from node-hello on ${process.version}\n`);
});
app.listen(port, () => console.log(`listening on ${port}`));
