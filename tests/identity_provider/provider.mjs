// A real OpenID Connect provider for the sign-in tests (npm's oidc-provider, pinned in package.json), on
// 127.0.0.1. Its development login form signs in any login name; the accounts' claims come from the JSON file
// named by PC_OIDC_ACCOUNTS (login -> claims, such as name, email and the app roles "roles"), read at each
// sign-in so a test can change them. It prints "ready <issuer>" once it listens.
import { readFileSync } from "node:fs";
import Provider from "oidc-provider";

const port = Number(process.env.PC_OIDC_PORT);
const issuer = process.env.PC_OIDC_ISSUER || `http://127.0.0.1:${port}`;
const accounts = () => JSON.parse(readFileSync(process.env.PC_OIDC_ACCOUNTS, "utf8"));

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.PC_OIDC_CLIENT_ID,
    client_secret: process.env.PC_OIDC_CLIENT_SECRET,
    redirect_uris: process.env.PC_OIDC_REDIRECT_URIS.split(" "),
    grant_types: ["authorization_code"],
    response_types: ["code"],
    token_endpoint_auth_method: "client_secret_basic",
  }],
  claims: { openid: ["sub"], profile: ["name", "preferred_username", "roles"], email: ["email"] },
  conformIdTokenClaims: false, // the profile and email claims in the ID token itself, as Entra ID gives them
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, ...(accounts()[id] || {}) }),
  }),
  // A first-party application: consent is taken as given, as an Entra ID tenant's administrator grants it.
  loadExistingGrant: async (ctx) => {
    const grant = new provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope("openid profile email");
    await grant.save();
    return grant;
  },
  cookies: { keys: ["professional-challenge-tests"] },
  pkce: { required: () => true },
});
provider.proxy = false;
provider.listen(port, "127.0.0.1", () => console.log(`ready ${issuer}`));
