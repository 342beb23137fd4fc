import { describe, expect, it } from "vitest";
import { readEventStream, SseParser } from "./sse";

/** A body that delivers `pieces` as separate chunks. */
function body(...pieces: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) controller.enqueue(encoder.encode(piece));
      controller.close();
    },
  });
}

describe("SseParser", () => {
  it("reads named events, joins multi-line data with newlines and skips comments", () => {
    const parser = new SseParser();
    expect(parser.push(": keep-alive\n\nevent: delta\ndata: {\"text\":\ndata:  \"hi\"}\nid: 7\n\n")).toEqual([
      { event: "delta", data: '{"text":\n "hi"}', id: "7" },
    ]);
  });

  it("completes events split anywhere across pieces, with CRLF, LF or CR line ends", () => {
    const parser = new SseParser();
    const stream = "event: sources\r\ndata: [1,\r\ndata: 2]\r\n\r\ndata: plain\r\rdata:x\n\n";
    const events = [...stream].flatMap((c) => parser.push(c));
    expect(events).toEqual([
      { event: "sources", data: "[1,\n2]" },
      { event: "message", data: "plain" },
      { event: "message", data: "x" },
    ]);
  });

  it("dispatches nothing for an event without data, and drops an unfinished one at the end", () => {
    const parser = new SseParser();
    expect(parser.push("event: ping\n\nevent: delta\ndata: half")).toEqual([]);
    expect(parser.end()).toEqual([]);
    expect(parser.push("data: next\n\n")).toEqual([{ event: "message", data: "next" }]);
  });
});

describe("readEventStream", () => {
  it("yields events as the body's chunks arrive, multi-byte characters split across chunks included", async () => {
    const bytes = new TextEncoder().encode("data: café\n\n");
    const split = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 9)); // Ends inside "é".
        controller.enqueue(bytes.slice(9));
        controller.close();
      },
    });
    const events = [];
    for await (const event of readEventStream(split)) events.push(event);
    expect(events).toEqual([{ event: "message", data: "café" }]);
  });

  it("reads several events from one chunk", async () => {
    const events = [];
    for await (const event of readEventStream(body("event: a\ndata: 1\n\nevent: b\ndata: 2\n\n"))) events.push(event.event);
    expect(events).toEqual(["a", "b"]);
  });
});
