"""The one launcher of the project's processes, shared by the bench, chaos, the tests and
``deploy/local/apps.sh``: ``process`` starts one with its environment and its log, waits
for its health URL and stops it; ``services`` says what each Overlap process is (command,
port, health URL); ``local`` drives the no-Docker stack's scripts."""
