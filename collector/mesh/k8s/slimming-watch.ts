import { Watch, type KubeConfig, type KubernetesObject } from "@kubernetes/client-node";

/**
 * A Watch that slims every object before the informer stores it, and that opens nothing once closed: the
 * informer may try to reconnect after its own backoff delay even though it was stopped meanwhile.
 */
export class SlimmingWatch<T extends KubernetesObject> extends Watch {
  private isClosed = false;

  constructor(
    config: KubeConfig,
    private readonly slim: (raw: unknown) => T | null,
    private readonly onBadObject: () => void,
  ) {
    super(config);
  }

  close(): void {
    this.isClosed = true;
  }

  reopen(): void {
    this.isClosed = false;
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    if (this.isClosed) {
      const controller = new AbortController();
      controller.abort();
      return controller;
    }
    return super.watch(
      path,
      queryParams,
      (phase: string, apiObj: unknown, watchObj?: unknown) => {
        // ERROR and BOOKMARK events carry a Status or a bare resourceVersion, not an object to slim.
        if (phase !== "ADDED" && phase !== "MODIFIED" && phase !== "DELETED") return callback(phase, apiObj, watchObj);
        const slimmed = this.slim(apiObj);
        if (slimmed) callback(phase, slimmed, watchObj);
        else this.onBadObject();
      },
      done,
    );
  }
}
