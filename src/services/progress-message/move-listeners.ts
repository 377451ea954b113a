/** The listeners a surface tells when its message moves. */
export class MoveListeners {
  private readonly listeners: Array<() => void> = [];

  add(listener: () => void): void {
    this.listeners.push(listener);
  }

  moved(): void {
    for (const listener of this.listeners) listener();
  }
}
