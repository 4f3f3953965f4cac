"""The canonical CyberQuest level catalog, loaded into the levels table by `flask levels sync`."""

from __future__ import annotations

from typing import Any

MIN_TIME_SECONDS = 60

LEVELS: list[dict[str, Any]] = [
    {
        "level_id": "1",
        "name": "The Misinformation Maze",
        "description": (
            "A story is racing through your feeds. Read the articles, check who published "
            "them and what they cite, and decide which ones deserve to be believed and shared."
        ),
        "category": "Information Literacy",
        "icon": "bi-newspaper",
        "difficulty": "Beginner",
        "xp_reward": 100,
        "estimated_time": "15 minutes",
        "expected_time_seconds": 900,
        "max_score": 1000,
        "skills": ["Critical Thinking", "Source Verification", "Fact Checking"],
    },
    {
        "level_id": "2",
        "name": "Shadow in the Inbox",
        "description": (
            "Your inbox is full and some of the senders are not who they claim to be. "
            "Inspect addresses, links and attachments, and sort the genuine mail from the lures."
        ),
        "category": "Email Security",
        "icon": "bi-envelope-exclamation",
        "difficulty": "Beginner",
        "xp_reward": 150,
        "estimated_time": "20 minutes",
        "expected_time_seconds": 1200,
        "max_score": 1000,
        "skills": ["Phishing Detection", "Email Analysis", "Social Engineering"],
    },
    {
        "level_id": "3",
        "name": "Malware Mayhem",
        "description": (
            "The office workstation has slowed to a crawl. Study the running processes, spot "
            "the ones that do not belong, and isolate them without stopping the system's own."
        ),
        "category": "Threat Detection",
        "icon": "bi-bug",
        "difficulty": "Intermediate",
        "xp_reward": 200,
        "estimated_time": "25 minutes",
        "expected_time_seconds": 1500,
        "max_score": 1000,
        "skills": ["Malware Recognition", "System Security", "Threat Analysis"],
    },
    {
        "level_id": "4",
        "name": "The White Hat Test",
        "description": (
            "You have been hired to test a company's defences. Stay inside the agreed scope, "
            "find the weaknesses that matter, and report them the responsible way."
        ),
        "category": "Ethical Hacking",
        "icon": "bi-terminal",
        "difficulty": "Expert",
        "xp_reward": 350,
        "estimated_time": "30 minutes",
        "expected_time_seconds": 1800,
        "max_score": 1000,
        "skills": ["Penetration Testing", "Vulnerability Assessment", "Ethical Hacking"],
    },
    {
        "level_id": "5",
        "name": "The Hunt for The Null",
        "description": (
            "An intruder known only as The Null left traces across a compromised machine. "
            "Collect the evidence from files and logs and piece together what happened."
        ),
        "category": "Digital Forensics",
        "icon": "bi-trophy",
        "difficulty": "Master",
        "xp_reward": 500,
        "estimated_time": "40 minutes",
        "expected_time_seconds": 2400,
        "max_score": 1500,
        "skills": ["Digital Forensics", "Evidence Analysis", "Advanced Investigation"],
    },
]

# Every level is playable now; min_time_seconds is the fastest a person can really finish.
for _position, _level in enumerate(LEVELS, start=1):
    _level.setdefault("position", _position)
    _level.setdefault("unlocked", True)
    _level.setdefault("coming_soon", False)
    _level.setdefault("min_time_seconds", MIN_TIME_SECONDS)
    _level.setdefault("extra", {})
