// At most N jobs at once (--forks).
export class Semaphore {
  private waiting: (() => void)[] = [];
  constructor(private free: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

/** A rendezvous for the hosts running one task: `arrive` waits until every host that is running the task
 *  has arrived or finished it (`leave`). Hosts start and leave as forks allow; it is used again and again. */
export class Barrier {
  private running = 0;
  private arrived: (() => void)[] = [];

  enter(): void {
    this.running++;
  }

  leave(): void {
    this.running--;
    this.release();
  }

  arrive(): Promise<void> {
    const p = new Promise<void>((r) => this.arrived.push(r));
    this.release();
    return p;
  }

  private release(): void {
    if (this.arrived.length === 0 || this.arrived.length < this.running) return;
    const all = this.arrived;
    this.arrived = [];
    for (const r of all) r();
  }
}
