// The SQLite checkpointer's thread (src/store/sqlite/checkpointer.ts): its own connection to the
// database, running a PASSIVE checkpoint every `intervalMs`. A checkpoint copies WAL frames into the
// database file and syncs that file: milliseconds of I/O that would otherwise run on the event loop of
// whichever connection committed past `wal_autocheckpoint`. PASSIVE never blocks a reader or a writer;
// with nothing new in the WAL it costs a read of the WAL index.
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

const db = new Database(workerData.path);
db.pragma("busy_timeout = 1000");
db.pragma("wal_autocheckpoint = 0");

const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (err) {
    parentPort.postMessage({ error: String(err?.message ?? err) });
  }
}, workerData.intervalMs);

parentPort.on("message", (message) => {
  if (message !== "close") return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
