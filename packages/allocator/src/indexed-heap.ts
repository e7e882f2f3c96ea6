// A binary heap whose nodes remember their position, so that any node can be
// removed or re-ordered in O(log n) (priority updates, cancellations).

/** A value that can sit in one {@link IndexedHeap} at a time; `heapIndex` is -1 when in none. */
export interface HeapNode {
  heapIndex: number;
}

/** Min-heap by `before`: `peek()` is the node for which `before(node, other)` holds against all others. */
export class IndexedHeap<T extends HeapNode> {
  private readonly items: T[];

  /** `before(a, b)` is true when `a` must come out first. Nodes given are heapified in O(n). */
  constructor(
    private readonly before: (a: T, b: T) => boolean,
    nodes: T[] = [],
  ) {
    this.items = nodes;
    for (let i = 0; i < nodes.length; i++) (nodes[i] as T).heapIndex = i;
    for (let i = (nodes.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  /** Number of nodes held. */
  get size(): number {
    return this.items.length;
  }

  /** The first node, without removing it. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Adds a node. */
  push(node: T): void {
    node.heapIndex = this.items.length;
    this.items.push(node);
    this.up(node.heapIndex);
  }

  /** Removes and returns the first node. */
  pop(): T | undefined {
    const top = this.items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Removes a node held by this heap (no-op if it is not). */
  remove(node: T): void {
    const i = node.heapIndex;
    if (i < 0 || this.items[i] !== node) return;
    const last = this.items.pop() as T;
    node.heapIndex = -1;
    if (last === node) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.down(i);
    this.up(last.heapIndex);
  }

  /** Restores order after the node's key changed. */
  update(node: T): void {
    const i = node.heapIndex;
    if (i < 0 || this.items[i] !== node) return;
    this.up(i);
    this.down(node.heapIndex);
  }

  /** All nodes, in heap (not sorted) order. */
  values(): readonly T[] {
    return this.items;
  }

  private up(start: number): void {
    const items = this.items;
    const node = items[start] as T;
    let i = start;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p] as T;
      if (!this.before(node, parent)) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    items[i] = node;
    node.heapIndex = i;
  }

  private down(start: number): void {
    const items = this.items;
    const n = items.length;
    const node = items[start] as T;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && this.before(items[r] as T, items[l] as T)) c = r;
      const child = items[c] as T;
      if (!this.before(child, node)) break;
      items[i] = child;
      child.heapIndex = i;
      i = c;
    }
    items[i] = node;
    node.heapIndex = i;
  }
}
