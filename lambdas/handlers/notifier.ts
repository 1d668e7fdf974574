/** Placeholder until the notifier handler is wired; replaced in this change. */
export async function handler(): Promise<never> {
  throw new Error("the notifier handler is not wired yet");
}
