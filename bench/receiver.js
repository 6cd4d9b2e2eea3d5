// A bare Node HTTP receiver for the benchmark, run as its own process.
// It answers 200 at once and reports counts and publish→delivered latencies
// (the publish time is encoded in the time-sortable webhook-id) over IPC. After a reset with
// `sentAt: true` (the steady-state scenario) it reads the body instead and measures from the
// `"sentAt":<ms>` the driver put in the payload: the time the publish was scheduled to be sent.
import { createServer } from "node:http";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
function idTime(id) {
  const body = id.slice(id.indexOf("_") + 1, id.indexOf("_") + 11);
  let ms = 0;
  for (const ch of body) ms = ms * 32 + ALPHABET.indexOf(ch);
  return ms;
}

const SENT_AT = /"sentAt":(\d+)/;

let count = 0;
let latencies = [];
let firstAt = 0;
let lastAt = 0;
let readSentAt = false;
const server = createServer((req, res) => {
  let body = "";
  req.on("data", readSentAt ? (chunk) => (body += chunk) : () => {});
  req.on("end", () => {
    const now = Date.now();
    count++;
    if (!firstAt) firstAt = now;
    lastAt = now;
    if (readSentAt) {
      const sent = SENT_AT.exec(body);
      if (sent) latencies.push(now - Number(sent[1]));
    } else {
      const id = req.headers["webhook-id"];
      if (typeof id === "string" && id.startsWith("msg_")) latencies.push(now - idTime(id));
    }
    res.end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => process.send({ type: "ready", port: server.address().port }));
process.on("message", (m) => {
  if (m.type === "reset") {
    count = 0;
    latencies = [];
    firstAt = 0;
    lastAt = 0;
    readSentAt = m.sentAt === true;
    process.send({ type: "reset" });
  } else if (m.type === "stats") {
    process.send({ type: "stats", count, firstAt, lastAt, latencies: m.withLatencies ? latencies : [] });
  } else if (m.type === "exit") {
    process.exit(0);
  }
});
