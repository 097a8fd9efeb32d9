#!/usr/bin/python3
# The one table `make bench` ends with: every row the bench scripts appended to $BENCH_ROWS
# (tests/bench/lib.sh add_row), with vrouterd's ratios to l3fwd, testpmd io and the kernel.
import sys

LABELS = {
    'testpmd': 'testpmd io, pcap -> null (upper bound)',
    'l3fwd': 'DPDK l3fwd LPM, 10,000 routes',
    'l3fwd_1m': 'DPDK l3fwd FIB, 1,000,000 routes',
    'vrouterd': 'vrouterd IPv4, 10,000 routes',
    'vrouterd_1m': 'vrouterd IPv4, 1,000,000 routes',
    'vrouterd_v6': 'vrouterd IPv6, 10,000 routes',
    'vrouterd_vifs': 'vrouterd IPv4 over 65,536 QinQ vifs',
    'vrouterd_untagged': 'vrouterd IPv4, the same packets untagged',
    'kernel': 'Linux kernel, veth, as sent',
    'kernel_per_cpu': 'Linux kernel, per softirq CPU-second',
    'vrouterd_memif': 'vrouterd over memif from the probe',
    'testpmd_memif': 'testpmd io over memif from the probe',
}
for f in ('vrouterd', 'testpmd'):
    for k, name in (('p50', 'p50'), ('p99', 'p99'), ('p999', 'p99.9')):
        LABELS[f'{f}_latency_{k}'] = f'{f} one-way latency {name}'

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
print(f"{'':<42} {'median (min-max)':>36} {'/l3fwd':>7} {'/testpmd':>9} {'/kernel':>8}")
for name in order:
    med, lo, hi, unit, note = rows[name]
    cells = ['', '', '']
    # Ratios only between rows measured alike: run.sh's 1,024 (or 8,192) frames pcap -> null,
    # one worker's core against another forwarder's core (the kernel's: its rate per second of
    # softirq CPU). The vif rows replay 65,536 frames from a larger pool: their peer is each other.
    if name in ('vrouterd', 'vrouterd_1m', 'vrouterd_v6'):
        cells = [ratio(name, 'l3fwd_1m' if name.endswith('_1m') else 'l3fwd'),
                 ratio(name, 'testpmd'), ratio(name, 'kernel_per_cpu')]
    value = f'{med:.3f} ({lo:.3f}-{hi:.3f}) {unit}'
    print(f'{LABELS.get(name, name):<42} {value:>36} {cells[0]:>7} {cells[1]:>9} {cells[2]:>8}')

print()
for name, peer, target in (('vrouterd', 'l3fwd', 1.0), ('vrouterd_1m', 'l3fwd_1m', 0.9)):
    r = ratio(name, peer)
    if r:
        print(f"{LABELS[name]} / {LABELS[peer]}: {r} "
              f"(issue 8's target >= {target}: {'met' if float(r) >= target else 'NOT met'})")
r = ratio('vrouterd_vifs', 'vrouterd_untagged')
if r:
    print(f"{LABELS['vrouterd_vifs']} / {LABELS['vrouterd_untagged']}: {r} (target >= 0.8)")
print()
print('rows:')
for name in order:
    print(f'  {LABELS.get(name, name)}: {rows[name][4]}')
