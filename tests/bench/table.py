#!/usr/bin/python3
# The one table `make bench` ends with: every row the bench scripts appended to $BENCH_ROWS
# (tests/bench/lib.sh add_row), with vrouterd's ratios to l3fwd, testpmd io and the kernel.
import sys

rows = {}
order = []
for line in open(sys.argv[1]):
    name, med, lo, hi, unit, note = line.rstrip('\n').split('\t')
    if name not in rows:
        order.append(name)
    rows[name] = (float(med), float(lo), float(hi), unit, note)


def ratio(a, b):
    if a not in rows or b not in rows or rows[b][0] == 0:
        return ''
    return f'{rows[a][0] / rows[b][0]:.2f}'


print()
print('make bench: one forwarding core each, 64-byte frames, medians of the runs (min-max)')
print(f"{'':<60} {'median (min-max)':>28} {'/l3fwd':>7} {'/testpmd':>9} {'/kernel':>8}")
for name in order:
    med, lo, hi, unit, note = rows[name]
    cells = ['', '', '']
    if name.startswith('vrouterd') and unit == 'Mpps':
        cells = [ratio(name, 'l3fwd_1m' if name.endswith('_1m') else 'l3fwd'),
                 ratio(name, 'testpmd'), ratio(name, 'kernel')]
    value = f'{med:.3f} ({lo:.3f}-{hi:.3f}) {unit}'
    print(f'{note:<60} {value:>28} {cells[0]:>7} {cells[1]:>9} {cells[2]:>8}')

print()
for name, peer, target in (('vrouterd', 'l3fwd', 1.0), ('vrouterd_1m', 'l3fwd_1m', 0.9)):
    r = ratio(name, peer)
    if r:
        print(f"{rows[name][4]} / {rows[peer][4]}: {r} "
              f"(issue 8's target >= {target}: {'met' if float(r) >= target else 'NOT met'})")
