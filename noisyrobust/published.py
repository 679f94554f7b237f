"""Published test accuracies (%) of the methods under their own protocols, for `python -m noisyrobust.report`
to show beside our runs. Sources: the papers' tables (UNVERIFIED: a number not read in the primary source); "best" = max over epochs
on the test set, "last" = the last epoch; "NP reproduction": noisypy's runs of the authors' configs (mean of 3
seeds), not a paper's number. Keyed by (method, data, noise kind, rate or human label)."""
from typing import Optional

# noise kinds as the injectors are named; "uniform" is the "symmetric" of DivideMix/ELR/SOP (label redrawn from
# all classes), "symmetric" that of loss correction / GCE (other classes only)
PUBLISHED = {
    ("dividemix", "cifar10", "uniform", 0.2): "96.1 best / 95.7 last",
    ("dividemix", "cifar10", "uniform", 0.5): "94.6 best / 94.4 last",
    ("dividemix", "cifar10", "uniform", 0.8): "93.2 best / 92.9 last",
    ("dividemix", "cifar10", "uniform", 0.9): "76.0 best / 75.4 last",
    ("dividemix", "cifar10", "asymmetric", 0.4): "93.4 best / 92.1 last (UNVERIFIED)",
    ("dividemix", "cifar100", "uniform", 0.2): "77.3 best",
    ("dividemix", "cifar100", "uniform", 0.5): "74.6 best",
    ("dividemix", "cifar100", "uniform", 0.8): "60.2 best",
    ("dividemix", "cifar100", "uniform", 0.9): "31.5 best",
    ("dividemix", "clothing1m", "human", "noisy"): "74.76",
    ("dividemix", "cifar10n", "human", "aggre"): "95.62 best (NP, lambda_u 0)",
    ("dividemix", "cifar10n", "human", "worse"): "86.52 last / 87.12 best (NP fair benchmark)",
    ("dividemix", "cifar100n", "human", "noisy"): "56.11 last / 56.75 best (NP fair benchmark)",
    ("elr", "cifar10", "uniform", 0.2): "91.16 (step) / 91.12 (cosine)",
    ("elr", "cifar10", "uniform", 0.8): "73.86 (step) / 80.69 (cosine)",
    ("elr", "cifar10", "asymmetric", 0.4): "90.12 (step) / 90.35 (cosine)",
    ("elr", "cifar100", "uniform", 0.2): "74.21",
    ("elr", "cifar100", "uniform", 0.8): "29.78",
    ("elr_plus", "cifar10", "uniform", 0.2): "95.8 (UNVERIFIED)",
    ("elr_plus", "cifar10", "uniform", 0.5): "94.8 (UNVERIFIED)",
    ("elr_plus", "cifar10", "uniform", 0.8): "93.3 (UNVERIFIED)",
    ("elr_plus", "cifar10", "asymmetric", 0.4): "93.0 (UNVERIFIED)",
    ("elr_plus", "cifar100", "uniform", 0.2): "77.6 (UNVERIFIED)",
    ("elr_plus", "cifar100", "uniform", 0.5): "73.6 (UNVERIFIED)",
    ("elr_plus", "cifar100", "uniform", 0.8): "60.8 (UNVERIFIED)",
    ("elr_plus", "clothing1m", "human", "noisy"): "74.81",
    ("elr_plus", "cifar10n", "human", "aggre"): "87.55 last (NP fair benchmark)",
    ("sop_plus", "cifar10", "uniform", 0.2): "96.3 (UNVERIFIED)",
    ("sop_plus", "cifar10", "uniform", 0.5): "95.5 (UNVERIFIED)",
    ("sop_plus", "cifar10", "uniform", 0.8): "94.0 (UNVERIFIED)",
    ("sop_plus", "cifar100", "uniform", 0.2): "78.8 (UNVERIFIED)",
    ("sop_plus", "cifar100", "uniform", 0.5): "75.9 (UNVERIFIED)",
    ("sop_plus", "cifar100", "uniform", 0.8): "63.3 (UNVERIFIED)",
    ("sop_plus", "cifar10n", "human", "aggre"): "95.61",
    ("sop_plus", "cifar10n", "human", "random1"): "95.28",
    ("sop_plus", "cifar100n", "human", "noisy"): "67.81",
    ("pes_semi", "cifar10n", "human", "aggre"): "94.64 best (NP, the reference's configs); 94.66 (UNVERIFIED)",
    ("pes_semi", "cifar10n", "human", "worse"): "92.58 best (NP, the reference's configs); 92.68 (UNVERIFIED)",
    ("pes_semi", "cifar100n", "human", "noisy"): "70.32 best (NP, the reference's configs); 70.36 (UNVERIFIED)",
    ("promix", "cifar10n", "human", "aggre"): "97.65 (third-party page, UNVERIFIED) / 90.97 best (NP fair benchmark)",
    ("promix", "cifar10n", "human", "random1"): "96.97 (third-party page, UNVERIFIED)",
    ("promix", "cifar10n", "human", "worse"): "96.34 (third-party page, UNVERIFIED) / 89.24 best (NP fair benchmark)",
    ("promix", "cifar100n", "human", "noisy"): "73.39 (third-party page, UNVERIFIED) / 55.88 best (NP fair benchmark)",
    ("disc", "cifar10n", "human", "aggre"): "88.39 best (NP fair benchmark)",
    ("disc", "cifar10n", "human", "worse"): "83.33 best (NP fair benchmark)",
    ("disc", "cifar100n", "human", "noisy"): "53.32 best (NP fair benchmark)",
    ("disc", "clothing1m", "human", "noisy"): "73.72 (UNVERIFIED)",
    ("cal", "cifar10n", "human", "aggre"): "91.97 (UNVERIFIED); 91.84 best (NP reproduction)",
    ("cal", "cifar10n", "human", "worse"): "85.36 (UNVERIFIED); 84.82 best (NP reproduction)",
    ("cal", "cifar100n", "human", "noisy"): "61.73 (UNVERIFIED); 60.13 best (NP reproduction)",
    ("volminnet", "cifar10n", "human", "aggre"): "89.70 (UNVERIFIED); 90.47 best (NP reproduction)",
    ("volminnet", "cifar10n", "human", "worse"): "80.53 (UNVERIFIED); 80.87 best (NP reproduction)",
    ("volminnet", "cifar100n", "human", "noisy"): "57.80 (UNVERIFIED); 58.30 best (NP reproduction)",
    ("trevision", "cifar10n", "human", "aggre"): "88.52 (UNVERIFIED)",
    ("trevision", "cifar10n", "human", "worse"): "80.48 (UNVERIFIED)",
    ("trevision", "cifar100n", "human", "noisy"): "51.55 (UNVERIFIED)",
    # the CIFAR-N paper's table (Wei et al. 2022), recalled, not read: CIFAR-10N aggre / worse, CIFAR-100N
    ("cores", "cifar10n", "human", "aggre"): "91.23 best (UNVERIFIED)",
    ("cores", "cifar10n", "human", "worse"): "83.60 best (UNVERIFIED)",
    ("peer", "cifar10n", "human", "aggre"): "90.75 best (UNVERIFIED)",
    ("peer", "cifar10n", "human", "worse"): "82.53 best (UNVERIFIED)",
    ("peer", "cifar100n", "human", "noisy"): "57.59 best (UNVERIFIED)",
    ("fdiv", "cifar10n", "human", "aggre"): "91.64 best (UNVERIFIED)",
    ("fdiv", "cifar10n", "human", "worse"): "82.53 best (UNVERIFIED)",
    ("fdiv", "cifar100n", "human", "noisy"): "57.10 best (UNVERIFIED)",
    ("gls", "cifar10n", "human", "aggre"): "91.97 best (UNVERIFIED; negative LS)",
    ("gls", "cifar10n", "human", "worse"): "82.99 best (UNVERIFIED; negative LS)",
    ("gls", "cifar100n", "human", "noisy"): "58.59 best (UNVERIFIED; negative LS)",
    ("ce", "cifar10n", "human", "aggre"): "87.77 best (UNVERIFIED)",
    ("ce", "cifar10n", "human", "random1"): "85.02 best (UNVERIFIED)",
    ("ce", "cifar10n", "human", "worse"): "77.69 best (UNVERIFIED)",
    ("ce", "cifar100n", "human", "noisy"): "55.50 best (UNVERIFIED)",
    # mini WebVision (50 classes): WebVision val top-1 / top-5; ILSVRC 2012 val top-1 / top-5
    ("dividemix", "webvision", "human", "noisy"): "77.32 / 91.64; ImageNet 75.20 / 90.84 (third-party copies; "
                                                  "ImageNet top-5 UNVERIFIED)",
    ("elr_plus", "webvision", "human", "noisy"): "77.78 / 91.68; ImageNet 70.29 / 89.76 (UNVERIFIED)",
    ("disc", "webvision", "human", "noisy"): "80.28 / 92.28; ImageNet 77.44 (UNVERIFIED)",
    ("ce", "food101n", "human", "noisy"): "81.44 (CleanNet's baseline, UNVERIFIED)",
    ("disc", "food101n", "human", "noisy"): "87.48 (UNVERIFIED)",
    ("ce", "animal10n", "human", "noisy"): "79.4 ± 0.14 (UNVERIFIED)",
    ("coteaching", "animal10n", "human", "noisy"): "80.2 ± 0.13 (UNVERIFIED)",
}


def published(method: str, data: str, noise: dict) -> Optional[str]:
    """The published number of ``method`` on ``data`` under ``noise`` (a run summary's noise dict: ``_target_``,
    ``rate``, ``label``), or None."""
    kind = str(noise.get("_target_", "")).rsplit(".", 1)[-1].replace("_noise", "")
    if kind == "human":
        label = noise.get("label") or "noisy"
        return PUBLISHED.get((method, data, kind, "noisy" if data in ("cifar100n", "clothing1m") else label))
    rate = noise.get("rate")
    return PUBLISHED.get((method, data, kind, round(float(rate), 2) if rate is not None else None))
