// The apply thread's entry when the API runs from its TypeScript sources (see apply-worker.ts):
// a worker thread does not inherit tsx's loader from the thread that started it.
import { register } from "tsx/esm/api";

register();
await import("./apply-thread.ts");
