// The publish path's ceiling for `npm run bench -- --publish`: a bare Fastify route in its own process
// (like `herald serve`) that parses the same JSON body with Fastify's default parser and answers 202
// with a small JSON body. No logging, no validation, no storage: what HTTP + JSON cost on this machine.
import Fastify from "fastify";

const app = Fastify({ logger: false });
let n = 0;
app.post("/api/v1/applications/:app/messages", async (req, reply) => {
  const body = req.body;
  return reply.code(202).send({ id: `msg_${++n}`, eventType: body.eventType, channels: body.channels ?? [], timestamp: new Date().toISOString() });
});
await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT) });
console.log(`listening on ${app.server.address().port}`);
