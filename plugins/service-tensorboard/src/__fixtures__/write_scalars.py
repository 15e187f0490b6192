"""Writes scalar points into a TensorBoard event file with TensorBoard's own writer,
without TensorFlow: python write_scalars.py RUN_DIR TAG N [FIRST_STEP]; value = 1/(step+1).
Each call writes a new events.out.tfevents.* file in RUN_DIR (made if missing)."""
import sys
import time

from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

run_dir, tag, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
first = int(sys.argv[4]) if len(sys.argv) > 4 else 0
writer = EventFileWriter(run_dir)
for step in range(first, first + count):
    value = summary_pb2.Summary.Value(tag=tag, simple_value=1.0 / (step + 1))
    writer.add_event(event_pb2.Event(wall_time=time.time(), step=step, summary=summary_pb2.Summary(value=[value])))
writer.close()
print(f"wrote {count} points of {tag!r} to {run_dir}")
