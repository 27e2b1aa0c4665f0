/**
 * Preloaded (`node --require`) into API processes under `--profile`: counts the socket writes
 * the process makes, to PostgreSQL (remote port 5432) and to everyone else (HTTP answers,
 * WebSocket and SSE frames), with their bytes, and keeps the totals in BENCH_WRITES_FILE. On
 * this machine a loopback write is one of the dearest things the API does (the profiles'
 * `writeBuffer` and `writev`), so the count says what a figure pays in syscalls. CommonJS
 * because `--require` runs before tsx's loader is registered.
 */
const net = require("node:net");
const { mkdirSync, writeFileSync } = require("node:fs");
const { dirname } = require("node:path");
const { isMainThread } = require("node:worker_threads");

const file = process.env.BENCH_WRITES_FILE;
// The main thread's writes (the apply thread's, with WEBHOOK_APPLY=worker, are not counted).
if (file && isMainThread) {
  mkdirSync(dirname(file), { recursive: true });
  const counts = { postgres: { writes: 0, bytes: 0 }, other: { writes: 0, bytes: 0 } };
  const side = (socket) => (socket.remotePort === 5432 ? counts.postgres : counts.other);
  const write = net.Socket.prototype._write;
  net.Socket.prototype._write = function (chunk, encoding, callback) {
    const c = side(this);
    c.writes++;
    c.bytes += typeof chunk === "string" ? Buffer.byteLength(chunk, encoding) : chunk.length;
    return write.call(this, chunk, encoding, callback);
  };
  const writev = net.Socket.prototype._writev;
  net.Socket.prototype._writev = function (chunks, callback) {
    const c = side(this);
    c.writes++;
    for (const { chunk, encoding } of chunks) c.bytes += typeof chunk === "string" ? Buffer.byteLength(chunk, encoding) : chunk.length;
    return writev.call(this, chunks, callback);
  };
  const save = () => writeFileSync(file, JSON.stringify(counts));
  setInterval(save, 1000).unref();
  process.on("exit", save);
}
