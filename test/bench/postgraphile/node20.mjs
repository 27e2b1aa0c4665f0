/**
 * PostGraphile 5 asks for Node ≥ 22 (its `engines`); the one Node 22 API it uses is
 * `Promise.withResolvers` (ES2024). The bench runs everything on the same Node as the API, so
 * this supplies it where missing (Node 20), to the letter of the spec. Imported first by server.mjs.
 */
if (typeof Promise.withResolvers !== "function") {
  Object.defineProperty(Promise, "withResolvers", {
    configurable: true,
    writable: true,
    value: function withResolvers() {
      let resolve;
      let reject;
      const promise = new this((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
