// A service reached through a URL (TensorBoard, a dashboard): the URL exists only while it runs.
import { Service } from './service.ts';

export interface WebServiceStarted {
  /** Where the service answers, e.g. `http://127.0.0.1:6006/`. */
  url: string;
}

export abstract class WebService extends Service<WebServiceStarted> {
  #url: string | undefined;

  override get url(): string | undefined {
    return this.#url;
  }

  protected override onStarted(started: WebServiceStarted): void {
    this.#url = started.url;
  }

  protected override onLeftRunning(): void {
    this.#url = undefined;
  }
}

/**
 * Where the monitor reaches a service through its proxy: `/services/<id>/`. The proxy
 * keeps the path as it is, so a service that can serve under a prefix (TensorBoard's
 * --path_prefix) serves under this one, and its links work through the proxy too.
 */
export function servicePath(id: string): string {
  return `/services/${encodeURIComponent(id)}/`;
}
