// A route's answer when it is not a plain 200: `accepted(body)` for commands that left but are not yet ACKed.
export class Reply {
  constructor(
    readonly statusCode: number,
    readonly body: unknown,
  ) {}
}

export const accepted = (body: unknown) => new Reply(202, body);
export const created = (body: unknown) => new Reply(201, body);
