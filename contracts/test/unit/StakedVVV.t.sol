// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {StakedVVVTestBase} from "./StakedVVVBase.t.sol";
import {StakedVVV} from "../../src/StakedVVV.sol";
import {IStakedVVV} from "../../src/interfaces/IStakedVVV.sol";
import {IDiem} from "../../src/interfaces/IDiem.sol";
import {MintCurve} from "../../src/libraries/MintCurve.sol";

contract StakedVVVTest is StakedVVVTestBase {
    // ------------------------------------------------------------ constructor

    function test_constructor_setsParameters() public view {
        assertEq(address(svvv.vvv()), address(vvv));
        assertEq(address(svvv.diem()), address(diem));
        assertEq(svvv.owner(), owner);
        assertEq(svvv.annualEmissionWei(), ANNUAL_EMISSION_WEI);
        assertEq(svvv.cooldownSeconds(), SVVV_COOLDOWN);
        assertEq(svvv.lockedWeightBps(), LOCKED_WEIGHT_BPS);
        (uint256 baseWad, uint256 powerWad, uint256 targetWei, uint256 maxSupplyWei) = svvv.curve();
        assertEq(baseWad, 90e18);
        assertEq(powerWad, 2e18);
        assertEq(targetWei, 38_000e18);
        assertEq(maxSupplyWei, 100_000e18);
        assertEq(svvv.name(), "Staked VVV");
        assertEq(svvv.symbol(), "sVVV");
        assertEq(svvv.decimals(), 18);
        assertEq(svvv.maxAnnualEmissionWei(), MAX_ANNUAL_EMISSION_WEI);
        assertEq(svvv.emissionDecayBps(), EMISSION_DECAY_BPS);
        assertEq(svvv.maxEmissionChangeBps(), MAX_EMISSION_CHANGE_BPS);
        assertEq(svvv.emissionChangeDelaySeconds(), EMISSION_CHANGE_DELAY);
        assertEq(svvv.emissionStartTimestamp(), T0);
        assertEq(svvv.launchWindowEndsAt(), T0);
        assertEq(svvv.launchMintCapWei(), 0);
        assertEq(svvv.emissionCeilingWei(), MAX_ANNUAL_EMISSION_WEI);
        assertEq(svvv.effectiveAnnualEmissionWei(), ANNUAL_EMISSION_WEI);
    }

    function test_constructor_emissionAboveCeilingReverts() public {
        IStakedVVV.Config memory config = defaultConfig();
        config.annualEmissionWei = MAX_ANNUAL_EMISSION_WEI + 1;
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakedVVV.StakedVVVEmissionAboveCeiling.selector, MAX_ANNUAL_EMISSION_WEI + 1, MAX_ANNUAL_EMISSION_WEI
            )
        );
        new StakedVVV(vvv, diem, owner, config);
    }

    function test_constructor_ceilingAboveAbsoluteBoundReverts() public {
        IStakedVVV.Config memory config = defaultConfig();
        config.maxAnnualEmissionWei = uint256(type(uint128).max) + 1;
        vm.expectRevert(
            abi.encodeWithSelector(
                IStakedVVV.StakedVVVEmissionBoundTooHigh.selector,
                uint256(type(uint128).max) + 1,
                uint256(type(uint128).max)
            )
        );
        new StakedVVV(vvv, diem, owner, config);
    }

    function test_constructor_ceilingAtAbsoluteBoundDeploys() public {
        IStakedVVV.Config memory config = defaultConfig();
        config.maxAnnualEmissionWei = type(uint128).max;
        config.annualEmissionWei = type(uint128).max;
        StakedVVV staked = new StakedVVV(vvv, diem, owner, config);
        assertEq(staked.emissionCeilingWei(), type(uint128).max);
    }

    function test_constructor_decayAbove100PercentReverts() public {
        IStakedVVV.Config memory config = defaultConfig();
        config.emissionDecayBps = 10_001;
        vm.expectRevert(abi.encodeWithSelector(IStakedVVV.StakedVVVInvalidEmissionDecay.selector, 10_001));
        new StakedVVV(vvv, diem, owner, config);
    }

    function test_constructor_changeBoundAbove100PercentReverts() public {
        IStakedVVV.Config memory config = defaultConfig();
        config.maxEmissionChangeBps = 10_001;
        vm.expectRevert(abi.encodeWithSelector(IStakedVVV.StakedVVVInvalidEmissionChange.selector, 10_001));
        new StakedVVV(vvv, diem, owner, config);
    }

    function test_constructor_delayAboveAYearReverts() public {
        IStakedVVV.Config memory config = defaultConfig();
        config.emissionChangeDelaySeconds = YEAR + 1;
        vm.expectRevert(abi.encodeWithSelector(IStakedVVV.StakedVVVEmissionDelayTooLong.selector, YEAR + 1, YEAR));
        new StakedVVV(vvv, diem, owner, config);
    }

    function test_constructor_lockedWeightAbove100PercentReverts() public {
        IStakedVVV.Config memory config = defaultConfig();
        config.lockedWeightBps = 10_001;
        vm.expectRevert(abi.encodeWithSelector(IStakedVVV.StakedVVVInvalidLockedWeight.selector, 10_001));
        new StakedVVV(vvv, diem, owner, config);
    }

    function test_constructor_invalidCurveReverts() public {
        IStakedVVV.Config memory config = defaultConfig();
        config.maxSupplyWei = 150_000e18;
        vm.expectRevert(
            abi.encodeWithSelector(MintCurve.MintCurveInvalidParams.selector, 90e18, 2e18, 38_000e18, 150_000e18)
        );
        new StakedVVV(vvv, diem, owner, config);
    }

    function test_constructor_zeroAddressReverts() public {
        vm.expectRevert(IStakedVVV.StakedVVVZeroAddress.selector);
        new StakedVVV(vvv, IDiem(address(0)), owner, defaultConfig());
    }

    // ------------------------------------------------------------ stake

    function test_stake_creditsUnlockedSvvv() public {
        vm.expectEmit(address(svvv));
        emit IStakedVVV.StakeCheckpointed(alice, 100e18, 0, 100e18);
        vm.expectEmit(address(svvv));
        emit IERC20.Transfer(address(0), alice, 100e18);
        vm.expectEmit(address(svvv));
        emit IStakedVVV.Staked(alice, 100e18);
        _stake(alice, 100e18);
        assertEq(svvv.stakedOf(alice), 100e18);
        assertEq(svvv.balanceOf(alice), 100e18);
        assertEq(svvv.unlockedOf(alice), 100e18);
        assertEq(svvv.weightOf(alice), 100e18);
        assertEq(svvv.totalStaked(), 100e18);
        assertEq(svvv.totalSupply(), 100e18);
        assertEq(vvv.balanceOf(address(svvv)), 100e18);
    }

    function test_stake_zeroReverts() public {
        vm.expectRevert(IStakedVVV.StakedVVVZeroAmount.selector);
        _stake(alice, 0);
    }

    function test_stake_withoutAllowanceReverts() public {
        address carol = makeAddr("carol");
        vm.prank(treasury);
        assertTrue(vvv.transfer(carol, 1e18));
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(svvv), 0, 1e18)
        );
        _stake(carol, 1e18);
    }

    // ------------------------------------------------------------ initiateUnstake / withdraw

    function test_initiateUnstake_movesToCooldownAndStopsEarning() public {
        _stake(alice, 100e18);
        vm.expectEmit(address(svvv));
        emit IERC20.Transfer(alice, address(0), 100e18);
        vm.expectEmit(address(svvv));
        emit IStakedVVV.UnstakeInitiated(alice, 100e18, 100e18, block.timestamp + SVVV_COOLDOWN);
        vm.prank(alice);
        svvv.initiateUnstake(100e18);
        (uint256 coolingWei, uint256 endsAt) = svvv.coolingOf(alice);
        assertEq(coolingWei, 100e18);
        assertEq(endsAt, block.timestamp + SVVV_COOLDOWN);
        assertEq(svvv.totalCooling(), 100e18);
        assertEq(svvv.totalStaked(), 0);
        uint256 earnedBefore = svvv.earned(alice);
        skip(1 days);
        assertEq(svvv.earned(alice), earnedBefore);
    }

    function test_initiateUnstake_restartsTimer() public {
        _stake(alice, 100e18);
        vm.prank(alice);
        svvv.initiateUnstake(10e18);
        skip(6 days);
        vm.prank(alice);
        svvv.initiateUnstake(10e18);
        (uint256 coolingWei, uint256 endsAt) = svvv.coolingOf(alice);
        assertEq(coolingWei, 20e18);
        assertEq(endsAt, block.timestamp + SVVV_COOLDOWN);
    }

    function test_initiateUnstake_zeroReverts() public {
        vm.expectRevert(IStakedVVV.StakedVVVZeroAmount.selector);
        vm.prank(alice);
        svvv.initiateUnstake(0);
    }

    function test_initiateUnstake_lockedSvvvReverts() public {
        _stake(alice, 1_000e18);
        uint256 lockedWei = _mint(alice, 5e18);
        uint256 unlockedWei = 1_000e18 - lockedWei;
        vm.expectRevert(
            abi.encodeWithSelector(IStakedVVV.StakedVVVInsufficientUnlocked.selector, unlockedWei + 1, unlockedWei)
        );
        vm.prank(alice);
        svvv.initiateUnstake(unlockedWei + 1);
    }

    function test_withdraw_afterCooldownPaysVvv() public {
        _stake(alice, 100e18);
        vm.prank(alice);
        svvv.initiateUnstake(100e18);
        skip(SVVV_COOLDOWN);
        uint256 balanceBefore = vvv.balanceOf(alice);
        vm.expectEmit(address(svvv));
        emit IStakedVVV.Withdrawn(alice, 100e18);
        vm.prank(alice);
        assertEq(svvv.withdraw(), 100e18);
        assertEq(vvv.balanceOf(alice), balanceBefore + 100e18);
        assertEq(svvv.totalCooling(), 0);
    }

    function test_withdraw_beforeCooldownReverts() public {
        _stake(alice, 100e18);
        vm.prank(alice);
        svvv.initiateUnstake(100e18);
        skip(SVVV_COOLDOWN - 1);
        vm.expectRevert(abi.encodeWithSelector(IStakedVVV.StakedVVVCooldownActive.selector, T0 + SVVV_COOLDOWN));
        vm.prank(alice);
        svvv.withdraw();
    }

    function test_withdraw_nothingCoolingReverts() public {
        vm.expectRevert(IStakedVVV.StakedVVVNothingCooling.selector);
        vm.prank(alice);
        svvv.withdraw();
    }

    // ------------------------------------------------------------ emissions

    function test_claimRewards_soleStakerGetsTheSchedule() public {
        _stake(alice, 100e18);
        skip(YEAR);
        uint256 expected = svvv.earned(alice);
        assertApproxEqAbs(expected, ANNUAL_EMISSION_WEI, 1e6);
        assertLe(expected, ANNUAL_EMISSION_WEI);
        vm.expectEmit(address(svvv));
        emit IStakedVVV.RewardsClaimed(alice, expected);
        vm.prank(alice);
        assertEq(svvv.claimRewards(), expected);
        assertEq(vvv.balanceOf(alice), 1_000_000e18 - 100e18 + expected);
        assertEq(vvv.totalSupply(), GENESIS_WEI + expected);
        assertEq(svvv.earned(alice), 0);
    }

    function test_claimRewards_nothingToClaimIsNoop() public {
        vm.prank(alice);
        assertEq(svvv.claimRewards(), 0);
        assertEq(vvv.totalSupply(), GENESIS_WEI);
    }

    /// @dev The decision: emissions of time with nothing staked are forfeited, not minted and not carried over.
    function test_claimRewards_emissionsWhileNothingStakedAreForfeited() public {
        skip(30 days); // nothing staked
        _stake(alice, 100e18);
        assertEq(svvv.earned(alice), 0);
        skip(10 days);
        vm.prank(alice);
        uint256 claimedWei = svvv.claimRewards();
        assertApproxEqAbs(claimedWei, ANNUAL_EMISSION_WEI * 10 days / YEAR, 1e6);
        // Everyone leaves: the next 30 days are forfeited too.
        vm.prank(alice);
        svvv.initiateUnstake(100e18);
        skip(30 days);
        assertEq(svvv.earned(alice), 0);
        _stake(bob, 100e18);
        skip(1);
        assertEq(svvv.earned(alice), 0);
        assertApproxEqAbs(svvv.earned(bob), ANNUAL_EMISSION_WEI / YEAR, 1e6);
    }

    function test_claimRewards_lockedSvvvEarnsAtItsWeight() public {
        _stake(alice, 1_000e18);
        _stake(bob, 1_000e18);
        uint256 lockedWei = _mint(alice, 5e18);
        uint256 aliceWeight = 1_000e18 - lockedWei + lockedWei * LOCKED_WEIGHT_BPS / 10_000;
        assertEq(svvv.weightOf(alice), aliceWeight);
        assertEq(svvv.totalWeight(), aliceWeight + 1_000e18);
        skip(1 days);
        // Earnings split in proportion to weights.
        assertApproxEqRel(svvv.earned(alice) * 1_000e18, svvv.earned(bob) * aliceWeight, 1e9);
        assertLt(svvv.earned(alice), svvv.earned(bob));
    }

    function test_earned_splitsByWeightOverTime() public {
        _stake(alice, 100e18);
        skip(1 days);
        _stake(bob, 300e18);
        skip(1 days);
        uint256 dayWei = ANNUAL_EMISSION_WEI * 1 days / YEAR;
        assertApproxEqAbs(svvv.earned(alice), dayWei + dayWei / 4, 1e6);
        assertApproxEqAbs(svvv.earned(bob), dayWei * 3 / 4, 1e6);
    }

    // ------------------------------------------------------------ mintDiem

    function test_mintDiem_locksQuoteAndMints() public {
        _stake(alice, 1_000e18);
        uint256 quoteWei = svvv.quoteMint(5e18);
        vm.expectEmit(address(svvv));
        emit IStakedVVV.DiemMinted(alice, 5e18, quoteWei);
        vm.prank(alice);
        assertEq(svvv.mintDiem(5e18, quoteWei), quoteWei);
        assertEq(diem.balanceOf(alice), 5e18);
        assertEq(svvv.lockedOf(alice), quoteWei);
        assertEq(svvv.unlockedOf(alice), 1_000e18 - quoteWei);
        assertEq(svvv.mintedOf(alice), 5e18);
        assertEq(svvv.totalLocked(), quoteWei);
        // 5 DIEM in cell 0, priced at rate(10 DIEM).
        assertEq(quoteWei, 450000000016401807900);
    }

    function test_mintDiem_slippageReverts() public {
        _stake(alice, 1_000e18);
        uint256 quoteWei = svvv.quoteMint(5e18);
        vm.expectRevert(abi.encodeWithSelector(IStakedVVV.StakedVVVSlippage.selector, quoteWei, quoteWei - 1));
        vm.prank(alice);
        svvv.mintDiem(5e18, quoteWei - 1);
    }

    function test_mintDiem_insufficientUnlockedReverts() public {
        _stake(alice, 100e18);
        uint256 quoteWei = svvv.quoteMint(5e18);
        vm.expectRevert(abi.encodeWithSelector(IStakedVVV.StakedVVVInsufficientUnlocked.selector, quoteWei, 100e18));
        _mint(alice, 5e18);
    }

    function test_mintDiem_coolingSvvvCannotBeLocked() public {
        _stake(alice, 1_000e18);
        vm.prank(alice);
        svvv.initiateUnstake(600e18);
        uint256 quoteWei = svvv.quoteMint(5e18);
        vm.expectRevert(abi.encodeWithSelector(IStakedVVV.StakedVVVInsufficientUnlocked.selector, quoteWei, 400e18));
        _mint(alice, 5e18);
    }

    function test_mintDiem_zeroReverts() public {
        _stake(alice, 1_000e18);
        vm.expectRevert(MintCurve.MintCurveZeroAmount.selector);
        _mint(alice, 0);
    }

    function test_mintDiem_tooManyCellsReverts() public {
        _stake(alice, 1_000_000e18);
        vm.expectRevert(abi.encodeWithSelector(MintCurve.MintCurveTooManyCells.selector, 257, 256));
        _mint(alice, 2_561e18);
    }

    function test_mintDiem_laterMintsCostMore() public {
        _stake(alice, 1_000_000e18);
        uint256 firstWei = _mint(alice, 1_000e18);
        uint256 secondWei = _mint(alice, 1_000e18);
        assertGt(secondWei, firstWei);
        assertGt(svvv.mintRate(), 90e18);
    }

    // ------------------------------------------------------------ burnDiem

    function test_burnDiem_unlocksProRataAtOwnRatio() public {
        _stake(alice, 1_000_000e18);
        uint256 lockedWei = _mint(alice, 100e18);
        // Another holder pushes the rate up; alice still unlocks at her own ratio.
        _stake(bob, 1_000_000e18);
        _mint(bob, 2_000e18);
        uint256 expectedWei = lockedWei * 30e18 / 100e18;
        assertEq(svvv.quoteBurn(alice, 30e18), expectedWei);
        vm.expectEmit(address(svvv));
        emit IStakedVVV.DiemBurned(alice, 30e18, expectedWei);
        assertEq(_burn(alice, 30e18), expectedWei);
        assertEq(svvv.lockedOf(alice), lockedWei - expectedWei);
        assertEq(svvv.mintedOf(alice), 70e18);
        assertEq(diem.balanceOf(alice), 70e18);
    }

    function test_burnDiem_allUnlocksEverything() public {
        _stake(alice, 1_000e18);
        _mint(alice, 3e18);
        _burn(alice, 1e18);
        _burn(alice, 1);
        _burn(alice, 2e18 - 1);
        assertEq(svvv.lockedOf(alice), 0);
        assertEq(svvv.mintedOf(alice), 0);
        assertEq(svvv.totalLocked(), 0);
        assertEq(svvv.unlockedOf(alice), 1_000e18);
        assertEq(diem.totalSupply(), 0);
    }

    function test_burnDiem_roundsDownInProtocolFavour() public {
        _stake(alice, 1_000e18);
        uint256 lockedWei = _mint(alice, 3);
        assertEq(lockedWei, 271); // ceil(3 * 90.0000000033) = 271
        assertEq(_burn(alice, 1), 90); // floor(271 / 3)
        assertEq(_burn(alice, 2), 181); // the rest
    }

    function test_burnDiem_moreThanMintedReverts() public {
        _stake(alice, 1_000e18);
        _mint(alice, 1e18);
        vm.expectRevert(abi.encodeWithSelector(IStakedVVV.StakedVVVBurnExceedsMinted.selector, 1e18 + 1, 1e18));
        _burn(alice, 1e18 + 1);
    }

    /// @dev The decision: DIEM received by transfer cannot unlock anything; only minters burn through StakedVVV.
    function test_burnDiem_neverMintedReverts() public {
        _stake(alice, 1_000e18);
        _mint(alice, 1e18);
        vm.prank(alice);
        assertTrue(diem.transfer(bob, 1e18));
        vm.expectRevert(abi.encodeWithSelector(IStakedVVV.StakedVVVBurnExceedsMinted.selector, 1e18, 0));
        _burn(bob, 1e18);
    }

    function test_burnDiem_withoutHoldingTheDiemReverts() public {
        _stake(alice, 1_000e18);
        _mint(alice, 1e18);
        vm.prank(alice);
        assertTrue(diem.transfer(bob, 1e18));
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, 0, 1e18));
        _burn(alice, 1e18);
    }

    function test_burnDiem_zeroReverts() public {
        vm.expectRevert(IStakedVVV.StakedVVVZeroAmount.selector);
        _burn(alice, 0);
    }

    // ------------------------------------------------------------ views

    function test_mintRate_atZeroSupplyIsBase() public view {
        assertEq(svvv.mintRate(), 90e18);
    }

    function test_quoteMint_matchesLibrary() public view {
        assertEq(svvv.quoteMint(1e18), 90000000003280361580);
    }

    function test_quoteBurn_neverMintedReverts() public {
        vm.expectRevert(abi.encodeWithSelector(IStakedVVV.StakedVVVBurnExceedsMinted.selector, 1, 0));
        svvv.quoteBurn(alice, 1);
    }

    // ------------------------------------------------------------ fuzz

    function testFuzz_mintDiem_splitNeverCheaper(uint256 supplyWei, uint256 firstWei, uint256 secondWei) public {
        fund(alice, 4_000_000e18);
        _stake(alice, 5_000_000e18);
        supplyWei = bound(supplyWei, 0, 20_000e18);
        firstWei = bound(firstWei, 1, 1_200e18);
        secondWei = bound(secondWei, 1, 1_200e18);
        // Reach the starting supply in cells-sized steps.
        while (diem.totalSupply() < supplyWei) {
            uint256 stepWei = supplyWei - diem.totalSupply();
            _mint(alice, stepWei > 2_500e18 ? 2_500e18 : stepWei);
        }
        uint256 wholeWei = svvv.quoteMint(firstWei + secondWei);
        uint256 partsWei = _mint(alice, firstWei) + _mint(alice, secondWei);
        assertGe(partsWei, wholeWei);
    }

    function testFuzz_burnDiem_neverReturnsMoreThanLocked(uint256 mintWei, uint256[3] memory burnsWei) public {
        _stake(alice, 1_000_000e18);
        mintWei = bound(mintWei, 1, 2_000e18);
        uint256 lockedWei = _mint(alice, mintWei);
        uint256 returnedWei;
        for (uint256 i; i < 3; ++i) {
            uint256 leftWei = svvv.mintedOf(alice);
            if (leftWei == 0) break;
            returnedWei += _burn(alice, bound(burnsWei[i], 1, leftWei));
            assertLe(returnedWei, lockedWei);
        }
        uint256 restWei = svvv.mintedOf(alice);
        if (restWei > 0) returnedWei += _burn(alice, restWei);
        assertEq(returnedWei, lockedWei);
        assertEq(svvv.lockedOf(alice), 0);
    }
}
