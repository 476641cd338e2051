// Conformance oracle: builds and signs tests/iota/cases.json with the official IOTA SDK, offline.
//
// usage: node oracle.mjs CASES.json [OUT.json]   (OUT defaults to standard output)
//
// Each case gives a sender secret key, gas coins, price and budget and either
// a transfer, a locked notarization or the "composite" transaction that
// exercises the rest of the encoder. No client is passed to build(), so the
// SDK cannot reach a node: it throws if anything is left to resolve. The
// output, one case per line, is tests/iota/expected.json; tests/test_iota.c
// checks our C builders against it and tests/check_iota_oracle.sh re-runs
// this script to prove that file came from the SDK.
import { readFileSync, writeFileSync } from 'node:fs';
import { Transaction, TransactionDataBuilder, Inputs } from '@iota/iota-sdk/transactions';
import { Ed25519Keypair } from '@iota/iota-sdk/keypairs/ed25519';
import { toBase64, toHex, fromHex } from '@iota/iota-sdk/utils';

// The vectors are only as good as the SDK that made them: insist on the pin.
const PINNED_SDK = '1.15.1';
const SDK_VERSION = JSON.parse(readFileSync(
    new URL('./node_modules/@iota/iota-sdk/package.json', import.meta.url), 'utf8')).version;

// notarization-move/Move.history.json in github.com/iotaledger/notarization.
const NOTARIZATION_PACKAGE = {
    mainnet: '0x909ce9dcd9a5e97b7b8884fac8e018fad9dece348bf73837379b8694ff684cf3',
    testnet: '0x00412bd469b7f980227c6c574090348239852e43aa07818b315854fdd8a2d25f',
    devnet: '0x72c8433b88e6bdee0eb02a257fdebd0ec2b6c990043f35b155cb4c5cf727fdca',
};

// The Move types the composite case passes, covering every TypeTag variant.
const COMPOSITE_TYPE_ARGS = [
    '0x2::coin::Coin<0x2::iota::IOTA>',
    'vector<vector<u8>>',
    'address',
    'signer',
    'bool',
    'u16',
    'u32',
    'u64',
    'u128',
    'u256',
];

function die(msg) {
    process.stderr.write(`oracle: ${msg}\n`);
    process.exit(1);
}

// Notarized data: explicit hex, or data_fill N (byte i = (i*167+13) mod 256).
function caseData(c) {
    if (typeof c.data_hex === 'string')
        return fromHex(c.data_hex);
    if (Number.isInteger(c.data_fill))
        return Uint8Array.from({ length: c.data_fill }, (_, i) => (i * 167 + 13) % 256);
    die(`${c.name}: no data_hex or data_fill`);
}

function objectRef(r) {
    return { objectId: r.object_id, version: r.version, digest: r.digest };
}

function addTransfer(tx, c) {
    const [coin] = tx.splitCoins(tx.gas, [tx.pure.u64(BigInt(c.amount))]);
    tx.transferObjects([coin], tx.pure.address(c.recipient));
}

// The same calls, in the same order, as the Rust notarization client's
// new_locked(): clock first, then state, descriptions, lock.
function addNotarization(tx, c) {
    const pkg = NOTARIZATION_PACKAGE[c.network];
    if (!pkg)
        die(`${c.name}: unknown network ${c.network}`);
    const clock = tx.object(
        Inputs.SharedObjectRef({ objectId: '0x6', initialSharedVersion: 1, mutable: false }));
    const state = tx.moveCall({
        target: `${pkg}::notarization::new_state_from_bytes`,
        arguments: [tx.pure.vector('u8', Array.from(caseData(c))), tx.pure.option('string', null)],
    });
    const description = tx.pure.option('string', c.description ?? null);
    const updatable = tx.pure.option('string', null);
    const lock = tx.moveCall({ target: `${pkg}::timelock::none` });
    tx.moveCall({
        target: `${pkg}::locked_notarization::create`,
        typeArguments: ['vector<u8>'],
        arguments: [state, description, updatable, lock, clock],
    });
}

// Mirrored by composite_tx() in tests/test_iota.c: change both together.
function addComposite(tx, c) {
    const m1 = tx.object(Inputs.ObjectRef(objectRef(c.merge_coins[0])));
    const m2 = tx.object(Inputs.ObjectRef(objectRef(c.merge_coins[1])));
    tx.mergeCoins(tx.gas, [m1, m2]);
    const [coin] = tx.splitCoins(tx.gas, [tx.pure.u64(BigInt(c.amount))]);
    const received = tx.object(Inputs.ReceivingRef(objectRef(c.receiving)));
    const shared = tx.object(Inputs.SharedObjectRef({
        objectId: c.shared.object_id,
        initialSharedVersion: c.shared.initial_shared_version,
        mutable: c.shared.mutable,
    }));
    const poked = tx.moveCall({
        target: `${c.package}::demo::poke_all`,
        typeArguments: COMPOSITE_TYPE_ARGS,
        arguments: [
            shared,
            received,
            tx.pure.string('h\u00e9llo \u2713'),
            tx.pure.vector('u16', [1, 65535]),
            tx.pure.bool(true),
            tx.pure.u8(255),
            tx.pure.u16(513),
            coin,
        ],
    });
    tx.transferObjects([coin, poked], tx.pure.address(c.recipient));
    tx.setExpiration({ Epoch: Number(c.expiration_epoch) });
}

async function runCase(c) {
    if (typeof c.secret_key !== 'string' || c.secret_key.length !== 64)
        die(`${c.name}: secret_key must be 64 hex digits`);
    const kp = Ed25519Keypair.fromSecretKey(fromHex(c.secret_key));
    const sender = kp.toIotaAddress();
    const tx = new Transaction();
    tx.setSender(sender);
    tx.setGasOwner(sender);
    tx.setGasPrice(BigInt(c.gas_price));
    tx.setGasBudget(BigInt(c.gas_budget));
    tx.setGasPayment(c.gas_coins.map(objectRef));
    switch (c.kind) {
    case 'transfer':
        addTransfer(tx, c);
        break;
    case 'notarize':
        addNotarization(tx, c);
        break;
    case 'composite':
        addComposite(tx, c);
        break;
    default:
        die(`${c.name}: unknown kind ${c.kind}`);
    }
    const bytes = await tx.build();
    const digest = await tx.getDigest();
    if (TransactionDataBuilder.getDigestFromBytes(bytes) !== digest)
        die(`${c.name}: the SDK's two digests disagree`);
    const { signature } = await kp.signTransaction(bytes);
    if (!(await kp.getPublicKey().verifyTransaction(bytes, signature)))
        die(`${c.name}: the SDK refuses its own signature`);
    return {
        name: c.name,
        address: sender,
        public_key: toHex(kp.getPublicKey().toRawBytes()),
        tx_bytes: toBase64(bytes),
        digest,
        signature,
    };
}

async function main() {
    const [casesPath, outPath] = process.argv.slice(2);
    if (!casesPath)
        die('usage: node oracle.mjs CASES.json [OUT.json]');
    if (SDK_VERSION !== PINNED_SDK)
        die(`@iota/iota-sdk ${SDK_VERSION} installed, ${PINNED_SDK} pinned: run npm ci`);
    const { cases } = JSON.parse(readFileSync(casesPath, 'utf8'));
    const results = [];
    for (const c of cases)
        results.push(await runCase(c));
    // One case per line so the shell tests can pick a case with grep.
    const text = `{"sdk":${JSON.stringify(`@iota/iota-sdk ${SDK_VERSION}`)},"cases":[\n` +
        results.map((r) => JSON.stringify(r)).join(',\n') + '\n]}\n';
    if (outPath)
        writeFileSync(outPath, text);
    else
        process.stdout.write(text);
}

main().catch((e) => die(e.stack || String(e)));
