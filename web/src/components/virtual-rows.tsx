// Renders only the rows in view (plus a margin), so a table of thousands of devices costs what twenty would.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';

export function VirtualRows<T>(props: {
  rows: readonly T[];
  rowHeight: number;
  height: number;
  head: ComponentChildren;
  row: (item: T) => ComponentChildren;
  caption: string;
}) {
  const [scrollTop, setScrollTop] = useState(0);
  const { rows, rowHeight, height } = props;
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - 10);
  const last = Math.min(rows.length, Math.ceil((scrollTop + height) / rowHeight) + 10);
  return (
    <div
      class="scroller"
      style={{ maxHeight: `${height}px` }}
      onScroll={(e) => setScrollTop((e.currentTarget as HTMLElement).scrollTop)}
      tabIndex={0}
      aria-label={props.caption}
      role="region"
    >
      <table class="grid" aria-rowcount={rows.length + 1}>
        <caption class="sr-only">{props.caption}</caption>
        <thead>{props.head}</thead>
        <tbody>
          {first > 0 && <tr aria-hidden="true" style={{ height: `${first * rowHeight}px` }} />}
          {rows.slice(first, last).map(props.row)}
          {last < rows.length && <tr aria-hidden="true" style={{ height: `${(rows.length - last) * rowHeight}px` }} />}
        </tbody>
      </table>
    </div>
  );
}
