// A component whose code loads on first use, in its own chunk: the views an overview load does not need stay out
// of the bundle it ships (bench "dashboard" measures that bundle).
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ErrorNote } from './ui.js';

export function lazy<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let loaded: ComponentType<P> | undefined;
  let loading: Promise<ComponentType<P>> | undefined;
  return function Lazy(props: P) {
    const [, setDone] = useState(false);
    const [error, setError] = useState<string>();
    useEffect(() => {
      if (loaded) return;
      loading ??= load();
      loading.then(
        (c) => {
          loaded = c;
          setDone(true);
        },
        (err: Error) => {
          loading = undefined;
          setError(`This view could not be loaded (${err.message}): reload the page.`);
        },
      );
    }, []);
    if (error) return <ErrorNote error={error} />;
    if (!loaded)
      return (
        <p class="muted" aria-busy="true">
          Loading…
        </p>
      );
    const C = loaded;
    return <C {...props} />;
  };
}
