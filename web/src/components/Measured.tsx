/** Renders `children` at the width its box has on screen, so SVG charts keep readable text at phone width. */
import { type ReactNode, useEffect, useRef, useState } from 'react';

export function Measured({ fallback, children }: { fallback: number; children: (width: number) => ReactNode }) {
  const box = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(fallback);
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => {
      const measured = Math.round(entry?.contentRect.width ?? 0);
      if (measured > 0) setWidth(measured);
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return (
    <div ref={box} className="measured">
      {children(width)}
    </div>
  );
}
