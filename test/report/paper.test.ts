/**
 * lib/report/paper.ts: the quoted numbers are transcribed consistently. The paper repeats rows
 * across its tables (plain GRPO is Table 1's GRPO row, Table 3's "× × ×", Table 4's IoU baseline
 * and Table 5's "× ×"; the full recipe is Table 1's and Table 3's last row; L_SC with both terms
 * is Table 3's "× × ✓" and Table 5's "✓ ✓"), so a typo in one copy shows as a mismatch here.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PAPER, PAPER_GEOCOT, type PaperRow } from '../../lib/report/paper';

const same = (a: PaperRow, b: PaperRow, what: string) =>
  assert.equal([a.acc50, a.acc70, a.miou], [b.acc50, b.acc70, b.miou], what);

test('rows the paper repeats across tables carry the same numbers', () => {
  const grpo = PAPER.table1.rows.grpo;
  same(PAPER.table3.rows.grpo, grpo, 'Table 3 × × × = Table 1 GRPO');
  same(PAPER.table4.rows.none, grpo, 'Table 4 IoU baseline = Table 1 GRPO');
  same(PAPER.table5.rows.none, grpo, 'Table 5 × × = Table 1 GRPO');
  same(PAPER.table3.rows.full, PAPER.table1.rows.full, 'Table 3 ✓ ✓ ✓ = RSGround-R1');
  same(PAPER.table3.rows.sc, PAPER.table5.rows.both, 'Table 3 × × ✓ = Table 5 ✓ ✓');
  same(PAPER.table3.rows.pos, PAPER.table4.rows.pos, 'Table 3 × ✓ × = Table 4 +R_pos');
});

test('every quoted metric a percentage, Acc@0.7 ≤ Acc@0.5; the claims tested hold in the quotes', () => {
  const rows: PaperRow[] = [
    ...Object.values(PAPER.table1.rows),
    ...Object.values(PAPER.table2.rows).flat(),
    ...Object.values(PAPER.table3.rows),
    ...Object.values(PAPER.table4.rows),
    ...Object.values(PAPER.table5.rows),
  ];
  for (const r of rows) {
    for (const v of [r.acc50, r.acc70, r.miou]) assert.ok(v > 0 && v < 100, `${r.label}: ${v}`);
    assert.ok(r.acc70 <= r.acc50, `${r.label}: Acc@0.7 ${r.acc70} > Acc@0.5 ${r.acc50}`);
  }
  const t1 = PAPER.table1.rows;
  assert.ok(t1.full.acc50 - t1.grpo.acc50 > 5, 'RSGround-R1 over GRPO by over 5 points (§4.3)');
  assert.ok(t1.grpo.acc50 > t1.sft.acc50 && t1.sft.acc50 > t1.base.acc50);
  const t3 = PAPER.table3.rows;
  for (const k of ['cot', 'pos', 'sc', 'full']) assert.ok(t3[k].acc50 > t3.grpo.acc50, `Table 3 ${k} above × × ×`);
  const t4 = PAPER.table4.rows;
  assert.ok(t4.giou.acc50 < t4.none.acc50 && t4.diou.acc50 < t4.none.acc50, 'GIoU and DIoU below IoU alone');
  assert.ok(t4.pos.acc50 > Math.max(t4.giou.acc50, t4.diou.acc50, t4.center.acc50), 'R_pos the best alternative');
  for (const [i, split] of ['FAST-T', 'SOTA-T'].entries()) {
    const t2 = PAPER.table2.rows;
    assert.is(t2.sft[i].label, split);
    assert.ok(t2.full[i].acc50 > t2.grpo[i].acc50 && t2.grpo[i].acc50 > t2.sft[i].acc50, split);
  }
});

test('Geo-CoT ablation: five rows, numbers as printed, each mapped to a distinct row of ours', () => {
  assert.is(PAPER_GEOCOT.rows.length, 5);
  assert.is(new Set(PAPER_GEOCOT.rows.map((r) => r.ours)).size, 5);
  for (const r of PAPER_GEOCOT.rows)
    for (const v of [r.vgMiou, r.ocMae, r.detMap50, r.vqa]) assert.match(v, /^\d+\.\d+$/, `${r.label}: ${v}`);
  // the full recipe is the best row on every metric (MAE: lowest)
  const full = PAPER_GEOCOT.rows[4];
  for (const r of PAPER_GEOCOT.rows.slice(0, 4)) {
    assert.ok(Number(full.vgMiou) > Number(r.vgMiou) && Number(full.detMap50) > Number(r.detMap50));
    assert.ok(Number(full.ocMae) < Number(r.ocMae) && Number(full.vqa) > Number(r.vqa));
  }
});

test.run();
