/**
 * The Kumar–Ross lower bound on the time to bring F bytes from one seeder (upload uS) to N receivers
 * (uploads ups, slowest download dMin): T_min = max(F/u_s, F/d_min, N·F/(u_s+Σu_i)), in seconds.
 */
export function kumarRossSeconds (fileBytes: number, originUp: number, ups: number[], dMin: number): number {
  const sum = ups.reduce((a, b) => a + b, 0)
  return Math.max(fileBytes / originUp, fileBytes / dMin, ups.length * fileBytes / (originUp + sum))
}
