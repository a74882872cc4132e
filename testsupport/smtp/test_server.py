"""Self-test of server.py. Run: cd testsupport/smtp && python3 -m unittest -v"""

from __future__ import annotations

import json
import os
import re
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import unittest
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path

SERVER = Path(__file__).resolve().with_name("server.py")
NAME_RE = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-\d{6}$")

SUBJECT = "Votre rendez-vous à l'espace France services est confirmé"
BODY = (
    "Bonjour Élodie,\n\n"
    "Votre rendez-vous du mercredi 3 décembre à 14 h est confirmé.\n"
    "Pièces à apporter : avis d'imposition, justificatif de domicile.\n"
    "Coût : 0 €. « Ça marche ! » — L'équipe Relais, cœur & âme.\n"
)


class Server:
    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVER), "--port", "0", "--maildir", str(maildir)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # Read the ready line with a deadline.
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(self.proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(15)
        if not box or not box[0]:
            self.proc.kill()
            raise RuntimeError(f"server did not start: {self.proc.stderr.read()}")
        self.ready = json.loads(box[0])
        self.port = self.ready["port"]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode


class SmtpServerTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.maildir = Path(self.tmp.name) / "mails"  # does not exist yet: the server creates it
        self.server = Server(self.maildir)
        self.addCleanup(self.tmp.cleanup)
        self.addCleanup(self.server.stop)

    def messages(self) -> list[Path]:
        return sorted(self.maildir.glob("*.eml"))

    def test_ready_line(self) -> None:
        self.assertEqual(self.server.ready, {"ready": True, "port": self.server.port})
        self.assertGreater(self.server.port, 0)
        self.assertTrue(self.maildir.is_dir())

    def test_utf8_french_message(self) -> None:
        msg = EmailMessage()
        msg["From"] = "Relais <ne-pas-repondre@relais.exemple.gouv.fr>"
        msg["To"] = "Élodie Lefèvre <elodie@exemple.fr>"
        msg["Subject"] = SUBJECT
        msg.set_content(BODY)  # utf-8, 8bit or quoted-printable as the email package chooses

        with smtplib.SMTP("127.0.0.1", self.server.port, timeout=10) as smtp:
            refused = smtp.send_message(
                msg,
                from_addr="bounces@relais.exemple.gouv.fr",
                to_addrs=["elodie@exemple.fr", "copie@exemple.fr"],
            )
        self.assertEqual(refused, {})

        # On disk as soon as the 250 came back: no waiting.
        emls = self.messages()
        self.assertEqual(len(emls), 1)
        eml = emls[0]
        self.assertRegex(eml.stem, NAME_RE)
        envelope = json.loads(eml.with_suffix(".json").read_text(encoding="utf-8"))
        self.assertEqual(
            envelope,
            {"mail_from": "bounces@relais.exemple.gouv.fr", "rcpt_tos": ["elodie@exemple.fr", "copie@exemple.fr"]},
        )

        raw = eml.read_bytes()
        self.assertIn(b"\r\n", raw)
        parsed = BytesParser(policy=policy.default).parsebytes(raw)
        self.assertEqual(parsed["Subject"], SUBJECT)
        self.assertEqual(parsed["To"], "Élodie Lefèvre <elodie@exemple.fr>")
        self.assertEqual(parsed.get_content_charset(), "utf-8")
        self.assertEqual(parsed.get_content().replace("\r\n", "\n"), BODY)
        self.assertEqual([p.name for p in self.maildir.iterdir() if p.name.startswith(".")], [])

    def test_smtputf8_addresses_and_8bit_body(self) -> None:
        # Non-ASCII address: smtplib uses SMTPUTF8, which the server offers.
        raw = (
            "From: Zoé <zoé@exemple.fr>\r\n"
            "To: André <andré@exemple.fr>\r\n"
            "Subject: Accusé de réception\r\n"
            "MIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n"
            "\r\n"
            "Reçu, merci. À bientôt !\r\n"
            ".Une ligne qui commence par un point.\r\n"
        ).encode("utf-8")
        with smtplib.SMTP("127.0.0.1", self.server.port, timeout=10) as smtp:
            smtp.ehlo()
            self.assertTrue(smtp.has_extn("smtputf8"))
            self.assertTrue(smtp.has_extn("8bitmime"))
            self.assertFalse(smtp.has_extn("auth"))
            self.assertFalse(smtp.has_extn("starttls"))
            smtp.sendmail("zoé@exemple.fr", ["andré@exemple.fr"], raw, mail_options=["SMTPUTF8", "BODY=8BITMIME"])

        (eml,) = self.messages()
        self.assertEqual(eml.read_bytes(), raw)  # byte for byte, dot-unstuffed
        sidecar = eml.with_suffix(".json").read_bytes()
        self.assertIn("andré@exemple.fr".encode("utf-8"), sidecar)
        self.assertEqual(json.loads(sidecar), {"mail_from": "zoé@exemple.fr", "rcpt_tos": ["andré@exemple.fr"]})

    def test_names_sort_in_arrival_order(self) -> None:
        with smtplib.SMTP("127.0.0.1", self.server.port, timeout=10) as smtp:
            for i in range(1, 6):
                msg = EmailMessage()
                msg["From"] = "a@exemple.fr"
                msg["To"] = "b@exemple.fr"
                msg["Subject"] = f"Message n°{i}"
                msg.set_content(f"numéro {i}")
                smtp.send_message(msg)
        emls = self.messages()
        self.assertEqual(len(emls), 5)
        self.assertEqual([e.stem[-6:] for e in emls], [f"{i:06d}" for i in range(1, 6)])
        subjects = [BytesParser(policy=policy.default).parsebytes(e.read_bytes())["Subject"] for e in emls]
        self.assertEqual(subjects, [f"Message n°{i}" for i in range(1, 6)])
        self.assertEqual(len(list(self.maildir.glob("*.json"))), 5)

    def test_exits_cleanly_on_sigterm(self) -> None:
        self.assertEqual(self.server.stop(), 0)


class CommandLineTest(unittest.TestCase):
    def test_port_in_use_fails(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            first = Server(Path(tmp))
            try:
                proc = subprocess.run(
                    [sys.executable, str(SERVER), "--port", str(first.port), "--maildir", tmp],
                    capture_output=True, text=True, timeout=15,
                )
                self.assertEqual(proc.returncode, 1)
                self.assertEqual(proc.stdout, "")
                self.assertIn("cannot listen", proc.stderr)
            finally:
                self.assertEqual(first.stop(), 0)


if __name__ == "__main__":
    unittest.main()
