/**
 * One output stream of a command (a process, an exec session), its head and tail kept when it goes
 * over `max` bytes: the start says what ran, the end how it ended; the middle is what gets cut.
 */
export class OutputCapture {
  private head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  /** Bytes the command wrote, before the cap. */
  total = 0;

  constructor(private readonly max: number) {}

  push(data: Uint8Array): void {
    let chunk = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.total += chunk.length;
    const half = Math.floor(this.max / 2);
    if (this.headBytes < this.max - half) {
      const take = Math.min(chunk.length, this.max - half - this.headBytes);
      this.head.push(chunk.subarray(0, take));
      this.headBytes += take;
      chunk = chunk.subarray(take);
    }
    if (chunk.length === 0) return;
    this.tail.push(chunk);
    this.tailBytes += chunk.length;
    while (this.tail.length > 1 && this.tailBytes - this.tail[0]!.length >= half)
      this.tailBytes -= this.tail.shift()!.length;
  }

  /** Whether bytes were dropped in the middle. */
  get capped(): boolean {
    return this.total > this.max;
  }

  /**
   * The kept text, each part masked before it is joined or cut (a secret cut in two is no longer
   * recognised): the whole output, or head and tail with the number of bytes cut between them.
   */
  parts(mask: (s: string) => string): { head: string; tail: string; cutBytes: number } {
    const head = Buffer.concat(this.head);
    const tailBuf = Buffer.concat(this.tail);
    if (!this.capped)
      return { head: mask(Buffer.concat([head, tailBuf]).toString('utf8')), tail: '', cutBytes: 0 };
    const half = Math.floor(this.max / 2);
    const tail = tailBuf.subarray(Math.max(0, tailBuf.length - half));
    return {
      head: mask(head.toString('utf8')),
      tail: mask(tail.toString('utf8')),
      cutBytes: this.total - head.length - tail.length,
    };
  }

  /** The kept text as one string: head, a line saying how much was cut, tail. */
  text(mask: (s: string) => string): string {
    const { head, tail, cutBytes } = this.parts(mask);
    if (!this.capped) return head;
    return `${head}\n… [${cutBytes} bytes cut: output over ${this.max} bytes] …\n${tail}`;
  }
}
