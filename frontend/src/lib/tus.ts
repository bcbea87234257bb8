// The real tus client behind uploads.ts: tus-js-client, in the browser.

import { DefaultHttpStack, Upload, type HttpRequest, type HttpResponse, type HttpStack } from 'tus-js-client';
import { uploadId, type TusFactory, type TusUpload } from './uploads';

/**
 * sameBase keeps every request of an upload on the base it was created at:
 * the host names a new upload by a Location it builds from the Host it was
 * asked at, which is another host and port when the request came through
 * the desktop app's relay. The upload's id is the Location's last path
 * element; its URL is the endpoint followed by it.
 */
class SameBase implements HttpStack {
  private readonly inner = new DefaultHttpStack({});
  constructor(private readonly endpoint: string) {}
  createRequest(method: string, url: string): HttpRequest {
    const req = this.inner.createRequest(method, url);
    const endpoint = this.endpoint;
    const send = req.send.bind(req);
    req.send = async (body: unknown): Promise<HttpResponse> => {
      const res = await send(body);
      const get = res.getHeader.bind(res);
      res.getHeader = (name: string) => {
        const v = get(name);
        if (v && name.toLowerCase() === 'location') {
          const id = uploadId(v);
          return id ? endpoint + encodeURIComponent(id) : v;
        }
        return v;
      };
      return res;
    };
    return req;
  }
  getName(): string {
    return 'lanchat';
  }
}

/** browserTus makes tus-js-client uploads, their URLs remembered in localStorage for resuming. */
export const browserTus: TusFactory = (file, options) => new Upload(file, { ...options, httpStack: new SameBase(options.endpoint) }) as unknown as TusUpload;
