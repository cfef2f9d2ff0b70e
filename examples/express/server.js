// A tiny Express app for AutoStack's examples and tests.
const express = require("express");

const app = express();
app.get("/", (_req, res) => res.send("<h1>Hello from Express</h1>"));
app.listen(Number(process.env.PORT || 3000), "127.0.0.1");
