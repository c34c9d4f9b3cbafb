/** Heaps used by the flow solver. */

/** Binary min-heap of vertex ids keyed by distance (stale entries are skipped by the caller). */
export class MinHeap {
  private ids: Int32Array;
  private keys: Float64Array;
  size = 0;
  constructor(capacity: number) {
    this.ids = new Int32Array(Math.max(16, capacity));
    this.keys = new Float64Array(Math.max(16, capacity));
  }
  clear(): void {
    this.size = 0;
  }
  push(id: number, key: number): void {
    if (this.size === this.ids.length) {
      const ids = new Int32Array(this.size * 2);
      ids.set(this.ids);
      const keys = new Float64Array(this.size * 2);
      keys.set(this.keys);
      this.ids = ids;
      this.keys = keys;
    }
    let q = this.size++;
    while (q > 0) {
      const parent = (q - 1) >> 1;
      if (this.keys[parent] <= key) break;
      this.ids[q] = this.ids[parent];
      this.keys[q] = this.keys[parent];
      q = parent;
    }
    this.ids[q] = id;
    this.keys[q] = key;
  }
  pop(): number {
    const top = this.ids[0];
    const lastId = this.ids[--this.size];
    const lastKey = this.keys[this.size];
    let q = 0;
    for (;;) {
      const l = 2 * q + 1;
      if (l >= this.size) break;
      const r = l + 1;
      const m = r < this.size && this.keys[r] < this.keys[l] ? r : l;
      if (this.keys[m] >= lastKey) break;
      this.ids[q] = this.ids[m];
      this.keys[q] = this.keys[m];
      q = m;
    }
    this.ids[q] = lastId;
    this.keys[q] = lastKey;
    return top;
  }
}

/**
 * The k items with the smallest `cost` (ties: the smaller item), returned ascending by item: a
 * bounded max-heap over one pass, O(|items| log k).
 */
export function kSmallest(items: readonly number[], k: number, cost: (item: number) => number): number[] {
  if (items.length <= k) return [...items];
  const hj: number[] = [];
  const hc: number[] = [];
  const worse = (a: number, b: number) => hc[a] > hc[b] || (hc[a] === hc[b] && hj[a] > hj[b]);
  const swap = (a: number, b: number) => {
    const tj = hj[a];
    hj[a] = hj[b];
    hj[b] = tj;
    const tc = hc[a];
    hc[a] = hc[b];
    hc[b] = tc;
  };
  for (const j of items) {
    const c = cost(j);
    if (hj.length < k) {
      hj.push(j);
      hc.push(c);
      let q = hj.length - 1;
      while (q > 0) {
        const parent = (q - 1) >> 1;
        if (!worse(q, parent)) break;
        swap(q, parent);
        q = parent;
      }
    } else if (c < hc[0] || (c === hc[0] && j < hj[0])) {
      hj[0] = j;
      hc[0] = c;
      let q = 0;
      for (;;) {
        const l = 2 * q + 1;
        const r = l + 1;
        let m = q;
        if (l < hj.length && worse(l, m)) m = l;
        if (r < hj.length && worse(r, m)) m = r;
        if (m === q) break;
        swap(q, m);
        q = m;
      }
    }
  }
  return hj.sort((a, b) => a - b);
}
