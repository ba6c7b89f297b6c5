/** A task run one at a time: asked for while a run is under way, it runs once more after it. */
export class OneAtATime {
  private running: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly task: () => Promise<void>,
    private readonly failed: (error: unknown) => void,
  ) {}

  /** The run under way, if any. */
  get current(): Promise<void> | undefined {
    return this.running;
  }

  run(): void {
    if (this.running !== undefined) {
      this.again = true;
      return;
    }
    this.running = this.task()
      .catch(this.failed)
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.run();
        }
      });
  }
}
