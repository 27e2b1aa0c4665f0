/**
 * One job, never two at once: `poke()` starts it, or, while it runs, asks for one more run
 * right after (pokes during a run coalesce into that one). The webhook queue, the event hub
 * and the audit writer each drain their work this way.
 */
export class SerialWorker {
  #running: Promise<void> | null = null;
  #again = false;

  constructor(
    private readonly job: () => Promise<void>,
    /** A failed run is reported here; the next poke runs the job again. */
    private readonly onError: (error: Error) => void,
  ) {}

  poke(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#loop();
  }

  /** True while a run is under way. */
  get busy(): boolean {
    return this.#running !== null;
  }

  /** Resolves once no run is under way or asked for. */
  idle(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      try {
        await this.job();
      } catch (error) {
        this.onError(error as Error);
      }
    } while (this.#again);
    this.#running = null;
  }
}
