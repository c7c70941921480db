// A route's answer when it is not a plain 200: `accepted(body)` for commands that left but are not yet ACKed.
export class Reply {
  constructor(
    readonly statusCode: number,
    readonly body: unknown,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {}
}

/** A redirect (`Location`), its JSON body saying the same for a client that does not follow it. */
export const found = (location: string, body: unknown) => new Reply(302, body, { location });

export const accepted = (body: unknown) => new Reply(202, body);
export const created = (body: unknown) => new Reply(201, body);
