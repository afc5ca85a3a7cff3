/**
 * The simulators' one source of reproducible randomness: the tenant generator draws tenants from
 * it, and both simulators roll their fault dice with it, so a tenant or a faulty run can be
 * repeated exactly from its seed. `Math.random` cannot be seeded, hence this small generator
 * (mulberry32: 32 bits of state, fast, and plenty for test data).
 */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  chars(alphabet: string, length: number): string {
    let result = '';
    for (let i = 0; i < length; i++) result += alphabet[this.int(alphabet.length)];
    return result;
  }
}
