// Server-sent events (the `text/event-stream` format of the HTML standard), read from a fetch
// body: EventSource cannot POST or send the bearer token.

export interface ServerSentEvent {
  /** `message` when the event names none. */
  event: string;
  /** The `data:` lines, joined by newlines. */
  data: string;
  id?: string;
}

/** Turns text, fed in pieces as it arrives, into events; a piece may end mid-line or mid-event. */
export class SseParser {
  private buffer = "";
  private event = "";
  private data: string[] = [];
  private id: string | undefined;

  /** Feeds text; returns the events it completed. */
  push(text: string): ServerSentEvent[] {
    this.buffer += text;
    const events: ServerSentEvent[] = [];
    // A line ends at CRLF, LF or CR; a trailing CR may be the first half of a CRLF, so wait.
    for (;;) {
      const match = /\r\n|\n|\r(?=[^\n])/.exec(this.buffer);
      if (!match) break;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      const event = this.line(line);
      if (event) events.push(event);
    }
    return events;
  }

  /** The stream ended: an event without its closing blank line is dropped, as the standard says. */
  end(): ServerSentEvent[] {
    this.buffer = "";
    this.reset();
    return [];
  }

  private line(line: string): ServerSentEvent | null {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null; // A comment (keep-alive).
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.event = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id" && !value.includes("\0")) this.id = value;
    return null;
  }

  private dispatch(): ServerSentEvent | null {
    if (this.data.length === 0) {
      this.event = "";
      return null;
    }
    const event: ServerSentEvent = { event: this.event || "message", data: this.data.join("\n") };
    if (this.id !== undefined) event.id = this.id;
    this.reset();
    return event;
  }

  private reset() {
    this.event = "";
    this.data = [];
  }
}

/** The events of a response body, as they arrive; aborting the request ends it with an AbortError. */
export async function* readEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    finished = true;
    yield* parser.push(decoder.decode());
    yield* parser.end();
  } finally {
    // A reader that stopped early (an error, or the caller done) lets the connection go.
    if (!finished) await reader.cancel().catch(() => undefined);
  }
}
