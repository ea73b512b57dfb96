import { generateSecret, generateURI, verify } from 'otplib';
import type { Totp } from '../core/ports.js';

/** RFC 6238 §4: 30-second steps, six digits, HMAC-SHA1 — what every authenticator app reads. */
const period = 30;

/** The Totp port on otplib, a maintained implementation of RFC 4226/6238 checked against their vectors. */
export const otplibTotp: Totp = {
  newSeed: () => generateSecret({ length: 20 }),
  uri: (issuer, account, seed) => generateURI({ issuer, label: account, secret: seed, period }),
  async check(seed, code, now, lastStep) {
    if (!/^[0-9]{6}$/.test(code)) return undefined;
    const epoch = Math.floor(now.getTime() / 1000);
    // §5.2: "the verifier MUST NOT accept the second attempt of the same OTP": afterTimeStep.
    const result = await verify({ secret: seed, token: code, epoch, period, epochTolerance: period, ...(lastStep !== null && { afterTimeStep: lastStep }) });
    if (!result.valid) return undefined;
    return Math.floor(epoch / period) + result.delta;
  },
};
