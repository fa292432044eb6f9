/**
 * A pure function of one string, remembered by its argument: for texts a run sees over and over
 * (timestamps, durations, field names, conditions). The memo is bounded: it is emptied when it holds
 * `limit` entries, so a long run's distinct texts cannot grow it without end.
 */
export function memoByText<T>(fn: (text: string) => T, limit: number): (text: string) => T {
  const memo = new Map<string, T>();
  return (text) => {
    let v = memo.get(text);
    if (v === undefined && !memo.has(text)) {
      v = fn(text);
      if (memo.size >= limit) memo.clear();
      memo.set(text, v);
    }
    return v as T;
  };
}
