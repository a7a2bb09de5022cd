import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binaryArraySerializers, encodeBinaryArray } from './pglite-binary-arrays.js';

describe('binary array parameters for PGlite', () => {
  let db: PGlite;
  let binary: Record<number, (value: unknown) => string>;
  beforeAll(async () => {
    db = await PGlite.create();
    binary = binaryArraySerializers(db.serializers) as unknown as typeof binary;
  }, 60_000);
  afterAll(() => db.close());

  const SQL = `select $1::uuid[] as ids, $2::text[] as texts, $3::int[] as ints, $4::float8[] as floats,
    $5::bool[] as flags, $6::timestamptz[] as times`;
  const PARAMS = [
    ['0e2b1c7a-9d7e-4c1b-8a55-1f2e3d4c5b6a', null, 'ABCDEF01-2345-6789-ABCD-EF0123456789'],
    ['hello', '', null, 'héllo "quoted", {braced} \\ back 😀', 'NULL'],
    [0, -2_147_483_648, 2_147_483_647, null, 42],
    [1.5, -0.25, 0, null, 1e-300, 123456.789],
    [true, false, null],
    [new Date('2026-12-07T03:04:05.678Z'), null, new Date(0), new Date('1999-12-31T23:59:59.999Z')],
  ];

  it('stores every supported type exactly as the text format does', async () => {
    const asText = await db.query(SQL, PARAMS);
    const asBinary = await db.query(SQL, PARAMS, { serializers: binary });
    expect(asBinary.rows).toEqual(asText.rows);
    expect(asBinary.rows[0]).toEqual({
      ids: ['0e2b1c7a-9d7e-4c1b-8a55-1f2e3d4c5b6a', null, 'abcdef01-2345-6789-abcd-ef0123456789'],
      texts: PARAMS[1],
      ints: PARAMS[2],
      floats: PARAMS[3],
      flags: PARAMS[4],
      times: PARAMS[5],
    });
  });

  it('encodes those arrays in binary, and an empty one too', async () => {
    for (const [oid, values] of [
      [2951, PARAMS[0]],
      [1009, PARAMS[1]],
      [1007, PARAMS[2]],
      [1022, PARAMS[3]],
      [1000, PARAMS[4]],
      [1185, PARAMS[5]],
      [1007, []],
    ] as const)
      expect(encodeBinaryArray(oid, values), `type ${oid}`).toBeInstanceOf(Buffer);
    const empty = await db.query('select $1::int[] as a, cardinality($1::int[]) as n', [[]], {
      serializers: binary,
    });
    expect(empty.rows[0]).toEqual({ a: [], n: 0 });
  });

  it('leaves to the text format what it does not encode, so Postgres answers as before', async () => {
    expect(encodeBinaryArray(1007, [1.5])).toBeUndefined();
    expect(encodeBinaryArray(1007, ['12'])).toBeUndefined();
    expect(encodeBinaryArray(1007, [[1, 2]])).toBeUndefined();
    expect(encodeBinaryArray(2951, ['not-a-uuid'])).toBeUndefined();
    expect(encodeBinaryArray(1185, [new Date(Number.NaN)])).toBeUndefined();
    const farFuture = new Date('3000-01-01T00:00:00.001Z');
    expect(encodeBinaryArray(1185, [farFuture])).toBeUndefined();
    expect(encodeBinaryArray(25, ['a'])).toBeUndefined(); // not an array type it knows
    // Strings that Postgres parses, and nested arrays, still work through the fallback.
    const parsed = await db.query(
      'select $1::int[] as a, $2::int[] as b',
      [
        ['12', '-3'],
        [
          [1, 2],
          [3, 4],
        ],
      ],
      {
        serializers: binary,
      },
    );
    expect(parsed.rows[0]).toEqual({
      a: [12, -3],
      b: [
        [1, 2],
        [3, 4],
      ],
    });
    const far = await db.query('select $1::timestamptz[] as t', [[farFuture]], { serializers: binary });
    expect(far.rows[0]).toEqual({ t: [farFuture] });
    // A bad value gets Postgres's own error, as with the text format.
    await expect(db.query('select $1::int[]', [[1.5]], { serializers: binary })).rejects.toThrow(
      /invalid input syntax for type integer/,
    );
    await expect(db.query('select $1::uuid[]', [['nope']], { serializers: binary })).rejects.toThrow(
      /invalid input syntax for type uuid/,
    );
  });
});
