import { RefObject, useEffect, useRef, useState } from 'react';

/** The height of the element behind the returned ref, kept current (virtualized lists size to it). */
export function useElementHeight(): [RefObject<HTMLDivElement>, number] {
  const ref = useRef<HTMLDivElement>(null);
  const [height, setHeight] = useState(400);
  useEffect(() => {
    if (!ref.current) {
      return;
    }
    const observer = new ResizeObserver((entries) => setHeight(Math.max(100, entries[0].contentRect.height)));
    observer.observe(ref.current);
    return () => observer.disconnect();
  }, []);
  return [ref, height];
}
