/**
 * The sink as a Worker of its own (vitest.config.ts bundles this file into an auxiliary Worker named "sink"):
 * every workerd of the pool has one, in the same process as the Worker under test, so an outbound call is a
 * call between two isolates instead of a round trip through vitest's Node process. The control paths come
 * through the SINK binding as http://sink/__…, a host the Worker's outbound policy never lets it call.
 */
import { createSink } from "./sink";

const sink = createSink();

export default {
  fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    return url.hostname === "sink" && url.pathname.startsWith("/__") ? sink.control(request) : sink.outbound(request);
  },
};
