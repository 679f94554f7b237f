"""LightningModules: networks + a per-sample loss + a selection rule, over shared plumbing."""
from noisyrobust.methods.base import NoisyLabelModule
from noisyrobust.methods.cal import CAL
from noisyrobust.methods.cores import CORES
from noisyrobust.methods.coteaching import CoTeaching
from noisyrobust.methods.coteaching_plus import CoTeachingPlus
from noisyrobust.methods.correction import LossCorrection
from noisyrobust.methods.disc import DISC
from noisyrobust.methods.dividemix import DivideMix
from noisyrobust.methods.elr import ELR
from noisyrobust.methods.elr_plus import ELRPlus
from noisyrobust.methods.fdiv import FDivergence
from noisyrobust.methods.gce import GCE
from noisyrobust.methods.gls import GLS
from noisyrobust.methods.jocor import JoCoR
from noisyrobust.methods.memorize import Memorize
from noisyrobust.methods.peer import PeerLoss
from noisyrobust.methods.pes import PES
from noisyrobust.methods.pes_semi import PESSemi
from noisyrobust.methods.promix import ProMix
from noisyrobust.methods.rholoss import RHOLoss
from noisyrobust.methods.sop import SOP
from noisyrobust.methods.standard import Standard
from noisyrobust.methods.trevision import TRevision
from noisyrobust.methods.volminnet import VolMinNet

__all__ = ["NoisyLabelModule", "Standard", "CoTeaching", "CoTeachingPlus", "JoCoR", "RHOLoss", "GCE", "LossCorrection",
           "ELR", "SOP", "DivideMix", "ELRPlus", "Memorize", "PES", "PESSemi", "ProMix", "DISC", "CAL", "TRevision",
           "VolMinNet", "CORES", "PeerLoss", "FDivergence", "GLS"]
