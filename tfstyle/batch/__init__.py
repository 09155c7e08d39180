"""Many images through one pipeline: a folder tree on this machine (`folder`) and Apache Beam
on any runner (`bulk`, launched as ``python -m tfstyle.bulk``)."""
