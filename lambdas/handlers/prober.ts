/** Placeholder until the prober handler is wired; replaced in this change. */
export async function handler(): Promise<never> {
  throw new Error("the prober handler is not wired yet");
}
