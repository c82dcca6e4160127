/**
 * A Map bounded to `capacity` entries that evicts the least recently used one: a Map iterates in insertion
 * order, so a hit moves its entry to the end and the first entry is the eviction candidate.
 */
export class LruMap<K, V> {
  readonly #entries = new Map<K, V>();
  readonly #capacity: number;
  readonly #onEvict: (key: K, value: V) => void;

  constructor(capacity: number, onEvict: (key: K, value: V) => void = () => undefined) {
    this.#capacity = capacity;
    this.#onEvict = onEvict;
  }

  get(key: K): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    while (this.#entries.size > this.#capacity) {
      const [oldestKey, oldest] = this.#entries.entries().next().value as [K, V];
      this.#entries.delete(oldestKey);
      this.#onEvict(oldestKey, oldest);
    }
  }

  delete(key: K): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
